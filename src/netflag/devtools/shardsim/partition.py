"""Which shard owns each user: by hash, or by ranges of a breadth-first order.

A hash spreads users evenly and ignores friendships; the breadth-first ranges
are a cheap locality-aware alternative, which keeps friends discovered together
on one shard, to see how much that saves.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from netflag.devtools.shardsim.graph import I32, I64, Graph, neighbours


def _mix(x: I64) -> npt.NDArray[np.uint64]:
    """splitmix64 finaliser: a well-mixed 64-bit hash of each user number."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hash_partition(users: int, shards: int) -> I32:
    """Owner shard of each user: hash(user) mod P."""
    return (_mix(np.arange(users, dtype=np.int64)) % np.uint64(shards)).astype(np.int32)


def bfs_partition(graph: Graph, shards: int, rank: I64 | None = None) -> I32:
    """A cheap locality-aware partition: breadth-first order cut into P equal ranges.

    ``rank`` is :func:`bfs_rank` of the graph, if already known.
    """
    if rank is None:
        rank = bfs_rank(graph)
    return (rank * shards // graph.users).astype(np.int32)


def bfs_rank(graph: Graph) -> I64:
    """Each user's position in a breadth-first order of the whole graph.

    The search starts at the highest-degree user and restarts at the lowest
    unvisited one for each further component; friends discovered together stay
    together, so neighbours tend to share a range.
    """
    n = graph.users
    seen = np.zeros(n, dtype=bool)
    order: list[I64] = []
    start = int(np.argmax(graph.degree()))
    while True:
        seen[start] = True
        order.append(np.array([start], dtype=np.int64))
        frontier = np.array([start], dtype=np.int64)
        while len(frontier):
            nbr = neighbours(graph, frontier)
            nbr = nbr[~seen[nbr]]
            _, first = np.unique(nbr, return_index=True)
            nxt = nbr[np.sort(first)].astype(np.int64)
            seen[nxt] = True
            order.append(nxt)
            frontier = nxt
        rest = np.flatnonzero(~seen)
        if not len(rest):
            break
        start = int(rest[0])
    rank = np.empty(n, dtype=np.int64)
    rank[np.concatenate(order)] = np.arange(n)
    return rank


def edge_cut(graph: Graph, owner: I32) -> float:
    """Share of friendships between two shards."""
    src = np.repeat(np.arange(graph.users, dtype=np.int64), graph.degree())
    if not len(src):
        return 0.0
    return float(np.mean(owner[src] != owner[graph.indices]))
