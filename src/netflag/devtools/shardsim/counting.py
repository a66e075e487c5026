"""What one check sends across shards, counted round by round, and its means over buyers.

Each buyer's breadth-first search runs once, to the largest D
(:func:`bfs_layers`); :func:`simulate_check` counts one check from it for one
partition, P and D, and :func:`simulate` averages those counts into one
:class:`Row` per (partition, P, D).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from netflag.devtools.shardsim.graph import I32, I64, Graph, neighbours
from netflag.devtools.shardsim.partition import bfs_partition, bfs_rank, edge_cut, hash_partition

HEADER_BYTES = 16  # per logical message: check number (8), round and count (8)
ID_BYTES = 4  # user number, int32 (10M users < 2**31)
ENTRY_BYTES = 24  # one purchase: timestamp (8), arrival number (8), units (8)


@dataclass(frozen=True)
class Layer:
    """One BFS round: the frontier expanded, the friend lists read, the new users."""

    sender: I64  # frontier user of each friend-list entry (repeated per entry)
    friend: I32  # the entry
    new: I64  # users first reached in this round (distance = round)


def bfs_layers(graph: Graph, source: int, depth: int, seen: npt.NDArray[np.bool_]) -> list[Layer]:
    """Rounds 1..depth of a breadth-first search from ``source``.

    ``seen`` is an all-False scratch array of ``graph.users`` entries, left
    all-False again on return.
    """
    layers: list[Layer] = []
    frontier = np.array([source], dtype=np.int64)
    seen[source] = True
    touched = [frontier]
    for _ in range(depth):
        lengths = graph.indptr[frontier + 1] - graph.indptr[frontier]
        sender = np.repeat(frontier, lengths)
        friend = neighbours(graph, frontier)
        new = np.unique(friend[~seen[friend]]).astype(np.int64)
        seen[new] = True
        touched.append(new)
        layers.append(Layer(sender, friend, new))
        frontier = new
    for t in touched:
        seen[t] = False
    return layers


@dataclass
class CheckCount:
    """What one check at one (P, D) sends."""

    members: int = 0
    entries_read: int = 0  # friend-list entries read on all shards
    bfs_messages: int = 0
    ids_sent: int = 0
    gather_messages: int = 0
    gather_entries: int = 0
    gather_reads: float = 0.0  # keys looked at by the shards to find their T newest
    shards_touched: int = 0
    ball_ids: int = 0  # |ball(u, D-1)|: what the broadcast variant sends each shard

    @property
    def bfs_bytes(self) -> int:
        return self.bfs_messages * HEADER_BYTES + self.ids_sent * ID_BYTES

    @property
    def gather_bytes(self) -> int:
        return self.gather_messages * HEADER_BYTES + self.gather_entries * ENTRY_BYTES


def simulate_check(
    layers: Sequence[Layer],
    owner: I32,
    shards: int,
    home: int,
    kept: I64,
    T: int,
    users: int,
    load: npt.NDArray[np.float64] | None = None,
    sizes: I64 | None = None,
) -> CheckCount:
    """Count one check over ``layers`` (its D rounds) with users dealt by ``owner``.

    ``load``, if given, gets each shard's friend-list entries read plus ids
    received added to it (the per-shard work, to measure imbalance).
    ``sizes`` (users per shard) defaults to ``np.bincount(owner)``.

    A shard finds its T newest the cheaper way: a merge over its m members'
    tails (about m keys looked at), or a walk down its own recency index,
    newest first, until T of them belong to members (about T * n_s / m
    entries if purchases are spread evenly over its n_s users).
    """
    count = CheckCount()
    sent_before: I64 = np.empty(0, dtype=np.int64)
    touched = np.zeros(shards, dtype=bool)
    touched[home] = True
    for layer in layers:
        src_shard = owner[layer.sender].astype(np.int64)
        dst_shard = owner[layer.friend]
        cross = src_shard != dst_shard
        keys = np.unique(src_shard[cross] * users + layer.friend[cross])
        if len(sent_before):
            fresh = ~np.isin(keys, sent_before, assume_unique=True)
            sent_before = np.union1d(sent_before, keys)
            keys = keys[fresh]
        else:
            sent_before = keys
        sender, receiver = keys // users, owner[keys % users].astype(np.int64)
        pairs = np.unique(sender * shards + receiver)
        count.bfs_messages += len(pairs)
        count.ids_sent += len(keys)
        count.entries_read += len(layer.friend)
        touched[sender] = True
        touched[receiver] = True
        if load is not None:
            load += np.bincount(src_shard, minlength=shards)  # entries read by the owner
            load += np.bincount(receiver, minlength=shards)  # ids checked against visited
    members = np.concatenate([layer.new for layer in layers])
    count.members = len(members)
    count.ball_ids = 1 + sum(len(layer.new) for layer in layers[:-1])
    held = np.bincount(owner[members], weights=kept[members], minlength=shards)
    held = np.minimum(held, T)
    if sizes is None:
        sizes = np.bincount(owner, minlength=shards)
    per_shard = np.bincount(owner[members], minlength=shards).astype(np.float64)
    on = per_shard > 0
    walk = T * sizes[on] / per_shard[on]
    count.gather_reads = float(np.minimum(per_shard[on], walk).sum())
    held[home] = 0  # the home shard's own share is local
    count.gather_messages = int(np.count_nonzero(held))
    count.gather_entries = int(held.sum())
    count.shards_touched = int(np.count_nonzero(touched | (held > 0)))
    return count


@dataclass(frozen=True)
class Row:
    """Mean figures per check for one (users, partition, P, D)."""

    users: int
    edges: int
    partition: str
    P: int
    D: int
    checks: int
    edge_cut: float  # share of friendships between two shards
    members: float
    entries_read: float
    shards_touched: float
    bfs_messages: float
    ids_sent: float
    bfs_bytes: float
    gather_messages: float
    gather_entries: float
    gather_bytes: float
    gather_reads: float
    ball_ids: float
    bytes_per_check: float
    bytes_p99: float
    messages_per_check: float
    imbalance: float  # busiest shard's work over the mean shard's, summed over checks


def simulate(
    graph: Graph,
    shards: Iterable[int],
    depths: Iterable[int],
    checks: int,
    T: int = 50,
    kept: float = 20.0,
    partitions: Iterable[str] = ("hash",),
    seed: int = 0,
) -> list[Row]:
    """Rows for every (partition, P, D) over the same ``checks`` random buyers."""
    rng = np.random.default_rng(seed + 1)
    n = graph.users
    depths = sorted(set(depths))
    shards = sorted(set(shards))
    partitions = list(dict.fromkeys(partitions))
    held = np.minimum(rng.poisson(kept, size=n), T).astype(np.int64)
    buyers = rng.integers(0, n, size=checks)
    owners: dict[tuple[str, int], I32] = {}
    rank = bfs_rank(graph) if "bfs" in partitions else None
    for partition in partitions:
        for P in shards:
            if partition == "hash":
                owners[partition, P] = hash_partition(n, P)
            else:
                owners[partition, P] = bfs_partition(graph, P, rank)
    counts: dict[tuple[str, int, int], list[CheckCount]] = {
        (part, P, D): [] for (part, P) in owners for D in depths
    }
    loads = {key: np.zeros(key[1], dtype=np.float64) for key in counts}
    sizes = {key: np.bincount(owner, minlength=key[1]) for key, owner in owners.items()}
    seen = np.zeros(n, dtype=bool)
    for u in buyers:
        layers = bfs_layers(graph, int(u), max(depths), seen)
        for (part, P), owner in owners.items():
            for D in depths:
                key = (part, P, D)
                count = simulate_check(
                    layers[:D], owner, P, int(owner[u]), held, T, n, loads[key], sizes[part, P]
                )
                counts[key].append(count)
    return [
        _row(
            graph,
            part,
            P,
            D,
            edge_cut(graph, owners[part, P]),
            counts[part, P, D],
            loads[part, P, D],
        )
        for (part, P, D) in counts
    ]


def _row(
    graph: Graph,
    partition: str,
    P: int,
    D: int,
    cut: float,
    counts: list[CheckCount],
    load: npt.NDArray[np.float64],
) -> Row:
    def mean(values: Iterable[float]) -> float:
        return float(np.mean(np.fromiter(values, dtype=np.float64)))

    total = np.array([c.bfs_bytes + c.gather_bytes for c in counts], dtype=np.float64)
    return Row(
        users=graph.users,
        edges=graph.edges,
        partition=partition,
        P=P,
        D=D,
        checks=len(counts),
        edge_cut=cut,
        members=mean(c.members for c in counts),
        entries_read=mean(c.entries_read for c in counts),
        shards_touched=mean(c.shards_touched for c in counts),
        bfs_messages=mean(c.bfs_messages for c in counts),
        ids_sent=mean(c.ids_sent for c in counts),
        bfs_bytes=mean(c.bfs_bytes for c in counts),
        gather_messages=mean(c.gather_messages for c in counts),
        gather_entries=mean(c.gather_entries for c in counts),
        gather_bytes=mean(c.gather_bytes for c in counts),
        gather_reads=mean(c.gather_reads for c in counts),
        ball_ids=mean(c.ball_ids for c in counts),
        bytes_per_check=float(total.mean()),
        bytes_p99=float(np.percentile(total, 99)),
        messages_per_check=mean(c.bfs_messages + c.gather_messages for c in counts),
        imbalance=float(load.max() / load.mean()) if load.sum() else 1.0,
    )
