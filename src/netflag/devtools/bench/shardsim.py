"""Size a sharded netflag on paper: messages and bytes per check, simulated.

Nothing here runs netflag. It generates a friendship graph (the preferential
attachment of :mod:`netflag.devtools.generate`, vectorised with numpy so that 10 million
users take a minute), deals its users to P shards, and replays the protocol of
``docs/scaling.md`` for a sample of buyers, counting what would cross the
network:

- **BFS rounds.** Round r (1..D) expands the frontier (users at distance r-1)
  on the shards that own it. Each shard sends every neighbour id it does not
  own to the owner, at most once per (check, round, sending shard, id), and
  never an id it already sent in an earlier round of the same check (it is
  visited by then). A logical message is one (check, round, sender,
  receiver) with at least one id. Owners drop ids already visited; the rest
  are the next frontier. Ids owned by the sender cost no message.
- **Top-T gather.** After round D every shard that owns a member (a user at
  distance 1..D) with kept purchases sends the buyer's home shard its members'
  T newest purchases (fewer if they hold fewer); the home shard's own are
  local. A member keeps ``min(T, Poisson(kept))`` purchases.

The network does not depend on P, so each buyer's breadth-first search runs
once, to the largest D, and every (partition, P, D) is counted from it. Run
``python -m netflag.devtools.bench.shardsim --help`` for the options; the figures in
``docs/scaling.md`` come from this module.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "Costs",
    "Graph",
    "Row",
    "Sizing",
    "bfs_layers",
    "bfs_partition",
    "bfs_rank",
    "hash_partition",
    "main",
    "pa_graph",
    "simulate",
    "simulate_check",
    "size_cluster",
]

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

HEADER_BYTES = 16  # per logical message: check number (8), round and count (8)
ID_BYTES = 4  # user number, int32 (10M users < 2**31)
ENTRY_BYTES = 24  # one purchase: timestamp (8), arrival number (8), units (8)
_CLIQUE = 6
_NEW_EDGES = (3, 7)  # as netflag.devtools.generate: edges per joining user, mean 5


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
    lo, hi = _NEW_EDGES
    m = rng.integers(lo, hi + 1, size=users, dtype=np.int64)
    head = min(users, _CLIQUE)
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
            nbr = _neighbours(graph, frontier)
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


def _neighbours(graph: Graph, nodes: I64) -> I32:
    """All friends of ``nodes``, concatenated in the order of ``nodes`` (repeats kept)."""
    starts = graph.indptr[nodes]
    lengths = graph.indptr[nodes + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int32)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return graph.indices[offsets + np.arange(total)]


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
        friend = _neighbours(graph, frontier)
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


def _edge_cut(graph: Graph, owner: I32) -> float:
    src = np.repeat(np.arange(graph.users, dtype=np.int64), graph.degree())
    if not len(src):
        return 0.0
    return float(np.mean(owner[src] != owner[graph.indices]))


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
            _edge_cut(graph, owners[part, P]),
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


@dataclass(frozen=True)
class Costs:
    """Assumed unit costs and machine, to turn counts into a cluster (docs/scaling.md)."""

    entry_ns: float = 20.0  # read one friend-list entry, test and set its visited mark
    id_ns: float = 20.0  # encode and decode one id on the wire
    message_us: float = 0.5  # one logical message: a segment of a superstep batch to a peer
    read_ns: float = 100.0  # one key looked at by a shard's top-T (tail or index entry)
    gathered_ns: float = 50.0  # one gathered purchase encoded, decoded and merged
    check_us: float = 10.0  # route the event, exact decision, emit the flag
    cores: int = 16  # per machine
    nic_gbit: float = 10.0  # per machine, each direction
    ram_gib: float = 64.0  # per machine
    utilisation: float = 0.5  # highest planned share of cores, NIC and RAM
    state_bytes_per_user: float = 50 * 64 + 10 * 8  # T=50 tails + index, 10 friends
    hop_ms: float = 0.1  # one superstep's exchange: one-way latency and end markers
    epoch_ms: float = 5.0  # events are cut into epochs this long

    def cpu_us(self, row: Row) -> float:
        """Cluster CPU time of one check, in microseconds."""
        ns = (
            row.entries_read * self.entry_ns
            + row.ids_sent * self.id_ns
            + row.gather_reads * self.read_ns
            + row.gather_entries * self.gathered_ns
        )
        return ns / 1000 + row.messages_per_check * self.message_us + self.check_us


@dataclass(frozen=True)
class Sizing:
    """The cluster one (users, partition, D) needs at one purchase rate."""

    users: int
    partition: str
    D: int
    rate: int  # checked purchases per second
    P: int  # machines, one shard each (smallest simulated P that fits, else extrapolated)
    fits: bool  # False: no simulated P fits; P is extrapolated from the largest
    cpu_us: float  # per check, whole cluster
    cores: float  # whole cluster
    gbit: float  # whole cluster, each byte counted once
    busiest_cores: float
    busiest_gbit: float
    state_gib: float  # per machine
    latency_ms: float


def size_cluster(rows: Sequence[Row], rates: Iterable[int], costs: Costs) -> list[Sizing]:
    """For each (users, partition, D, rate): the fewest machines that hold the load."""
    groups: dict[tuple[int, str, int], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.users, row.partition, row.D), []).append(row)
    out: list[Sizing] = []
    for rate in rates:
        for (users, partition, D), group in groups.items():
            group = sorted(group, key=lambda r: r.P)
            chosen = None
            for row in group:
                need = _need(row, rate, costs)
                if max(need) <= 1.0:
                    chosen, machines, fits = row, row.P, True
                    break
            if chosen is None:
                chosen = group[-1]
                machines = math.ceil(chosen.P * max(_need(chosen, rate, costs)))
                fits = False
            cpu = costs.cpu_us(chosen)
            cores = rate * cpu / 1e6
            gbit = rate * chosen.bytes_per_check * 8 / 1e9
            busy_cores = cores * chosen.imbalance / machines
            busy_gbit = gbit * chosen.imbalance / machines
            latency = (
                costs.epoch_ms
                + (D + 1) * costs.hop_ms
                + costs.epoch_ms * (busy_cores / costs.cores + busy_gbit / costs.nic_gbit)
            )
            out.append(
                Sizing(
                    users=users,
                    partition=partition,
                    D=D,
                    rate=rate,
                    P=machines,
                    fits=fits,
                    cpu_us=cpu,
                    cores=cores,
                    gbit=gbit,
                    busiest_cores=busy_cores,
                    busiest_gbit=busy_gbit,
                    state_gib=users * costs.state_bytes_per_user / machines / 2**30,
                    latency_ms=latency,
                )
            )
    return out


def _need(row: Row, rate: int, costs: Costs) -> tuple[float, float, float]:
    """Busiest machine's CPU, NIC and RAM use over its planned ceiling, with P machines."""
    cores = rate * costs.cpu_us(row) / 1e6 * row.imbalance / row.P
    gbit = rate * row.bytes_per_check * 8 / 1e9 * row.imbalance / row.P
    ram = row.users * costs.state_bytes_per_user / row.P / 2**30
    cap = costs.utilisation
    return cores / (costs.cores * cap), gbit / (costs.nic_gbit * cap), ram / (costs.ram_gib * cap)


def sizing_markdown(sizes: Sequence[Sizing]) -> str:
    """The sizing as a markdown table."""
    lines = [
        "| users | partition | D | purchases/s | machines (P) | CPU µs/check | cores |"
        " Gbit/s | busiest machine: cores | busiest: Gbit/s | state GiB/machine | latency ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for z in sizes:
        machines = str(z.P) if z.fits else f"~{z.P:,} (extrapolated)"
        cells = [
            f"{z.users:,}",
            z.partition,
            str(z.D),
            f"{z.rate:,}",
            machines,
            _fmt(z.cpu_us),
            _fmt(z.cores),
            _fmt(z.gbit),
            _fmt(z.busiest_cores),
            _fmt(z.busiest_gbit),
            _fmt(z.state_gib),
            _fmt(z.latency_ms),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


COLUMNS = [
    ("users", "users"),
    ("partition", "partition"),
    ("P", "P"),
    ("D", "D"),
    ("edge_cut", "edge cut"),
    ("members", "members"),
    ("entries_read", "entries read"),
    ("shards_touched", "shards touched"),
    ("bfs_messages", "BFS msgs"),
    ("ids_sent", "ids sent"),
    ("bfs_bytes", "BFS bytes"),
    ("gather_messages", "gather msgs"),
    ("gather_bytes", "gather bytes"),
    ("bytes_per_check", "bytes/check"),
    ("bytes_p99", "p99 bytes"),
    ("imbalance", "max/mean shard"),
]


def markdown(rows: Sequence[Row]) -> str:
    """The rows as a markdown table (means per check)."""
    head = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    align = "|" + "|".join("---" if key == "partition" else "---:" for key, _ in COLUMNS) + "|"
    lines = [head, align]
    for row in rows:
        cells = []
        for key, _ in COLUMNS:
            value = getattr(row, key)
            if key == "users":
                cells.append(f"{value:,}")
            elif isinstance(value, float):
                cells.append(_fmt(value))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: Sequence[Row], path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[f.name for f in fields(Row)])
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))


def _ints(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers: {text!r}")
    return values


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    bad = [name for name in names if name not in ("hash", "bfs")]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"partitions are hash and bfs: {text!r}")
    return names


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m netflag.devtools.bench.shardsim",
        description="Messages and bytes per check of a sharded netflag, simulated.",
    )
    parser.add_argument("--users", type=_ints, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--shards", type=_ints, default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--depths", type=_ints, default=[1, 2, 3])
    parser.add_argument("--checks", type=int, default=300, help="buyers sampled per graph")
    parser.add_argument("--T", type=int, default=50)
    parser.add_argument("--kept", type=float, default=20.0, help="mean kept purchases per user")
    parser.add_argument(
        "--partitions",
        type=_names,
        default=["hash"],
        help="hash and/or bfs (locality-aware: breadth-first order cut in P ranges)",
    )
    parser.add_argument(
        "--bfs-max-users",
        type=int,
        default=1_000_000,
        help="run the bfs partition only on graphs up to this size",
    )
    parser.add_argument(
        "--rates",
        type=_ints,
        default=[10_000, 100_000],
        help="checked purchases per second to size a cluster for (hash partition rows)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", type=Path, help="write every row here")
    parser.add_argument("--markdown", type=Path, help="write the table here")
    args = parser.parse_args(argv)
    if args.checks < 1 or args.T < 2:
        parser.error("--checks must be >= 1 and --T >= 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rows: list[Row] = []
    started = time.perf_counter()
    for users in args.users:
        t0 = time.perf_counter()
        graph = pa_graph(users, args.seed)
        t1 = time.perf_counter()
        parts = [p for p in args.partitions if p == "hash" or users <= args.bfs_max_users]
        new = simulate(
            graph, args.shards, args.depths, args.checks, args.T, args.kept, parts, args.seed
        )
        t2 = time.perf_counter()
        deg = graph.degree()
        print(
            f"# {users:,} users, {graph.edges:,} friendships (mean degree {deg.mean():.1f},"
            f" max {deg.max():,}): graph {t1 - t0:.1f} s, simulation {t2 - t1:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        rows.extend(new)
        del graph
    table = markdown(rows)
    sizes = size_cluster([r for r in rows if r.partition == "hash"], args.rates, Costs())
    table += "\n" + sizing_markdown(sizes)
    print(table, end="")
    print(f"# total {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.csv:
        write_csv(rows, args.csv)
    if args.markdown:
        args.markdown.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
