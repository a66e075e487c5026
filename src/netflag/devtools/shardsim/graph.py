"""The friendship graph the simulation deals to shards, built fast enough for 10M users.

It is the preferential attachment of :mod:`netflag.devtools.generate`,
vectorised with numpy, held as compressed sparse rows so that a breadth-first
round is a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from netflag.devtools.social import NEW_EDGES, SEED_CLIQUE

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Graph:
    """Undirected simple graph in CSR form: friends of v are indices[indptr[v]:indptr[v+1]]."""

    indptr: I64
    indices: I32

    @property
    def users(self) -> int:
        return len(self.indptr) - 1

    @property
    def edges(self) -> int:
        return len(self.indices) // 2

    def degree(self) -> I64:
        return np.diff(self.indptr)


def _csr(users: int, a: I64, b: I64) -> Graph:
    """CSR of the undirected simple graph with edges a-b (duplicates and loops dropped)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    key = np.unique(lo[keep] * users + hi[keep])
    lo, hi = key // users, key % users
    del key
    src = np.concatenate([lo, hi])
    dst = np.concatenate([hi, lo]).astype(np.int32)
    del lo, hi
    order = np.argsort(src, kind="stable")
    indices = dst[order]
    counts = np.bincount(src, minlength=users)
    indptr = np.zeros(users + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Graph(indptr, indices)


def pa_graph(users: int, seed: int = 0) -> Graph:
    """The preferential-attachment graph of ``netflag.devtools.generate``, vectorised.

    User i joins with m_i ~ U{3..7} edges (a clique of the first 6), each to a
    target drawn uniformly from the endpoints of all earlier edges, i.e. by
    degree. Drawing an endpoint index r: an even r is the joining end of edge
    r/2 (known); an odd r is the target of edge (r-1)/2, itself a draw, which
    is followed (pointer jumping) until it lands on a joining end. Repeated
    targets are merged, so a user brings slightly fewer than m_i edges, and
    ids are shuffled so the hubs (the oldest users) are scattered.
    """
    if users < 2:
        raise ValueError("users must be at least 2")
    rng = np.random.default_rng(seed)
    lo, hi = NEW_EDGES
    m = rng.integers(lo, hi + 1, size=users, dtype=np.int64)
    head = min(users, SEED_CLIQUE)
    m[:head] = np.arange(head)
    m = np.minimum(m, np.arange(users))
    src = np.repeat(np.arange(users, dtype=np.int64), m)
    first = np.zeros(users + 1, dtype=np.int64)
    np.cumsum(m, out=first[1:])
    tgt = np.full(len(src), -1, dtype=np.int64)
    clique = first[head]
    # clique edges: user i to 0..i-1
    tgt[:clique] = np.concatenate([np.arange(i) for i in range(head)]) if clique else []
    rest = np.arange(clique, len(src))
    draw = np.zeros(len(src), dtype=np.int64)
    draw[rest] = (rng.random(len(rest)) * (2 * first[src[rest]])).astype(np.int64)
    todo = rest
    while len(todo):
        r = draw[todo]
        even = (r & 1) == 0
        tgt[todo[even]] = src[r[even] >> 1]
        odd_todo, prev = todo[~even], r[~even] >> 1
        known = tgt[prev] >= 0
        tgt[odd_todo[known]] = tgt[prev[known]]
        draw[odd_todo[~known]] = draw[prev[~known]]
        todo = odd_todo[~known]
    del draw, rest
    perm = rng.permutation(users)
    return _csr(users, perm[src], perm[tgt])


def neighbours(graph: Graph, nodes: I64) -> I32:
    """All friends of ``nodes``, concatenated in the order of ``nodes`` (repeats kept)."""
    starts = graph.indptr[nodes]
    lengths = graph.indptr[nodes + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int32)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return graph.indices[offsets + np.arange(total)]
