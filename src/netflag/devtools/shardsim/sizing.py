"""From counts per check to a cluster: machines, cores, bandwidth and latency at a rate.

The unit costs and the machine are assumptions (:class:`Costs`, listed in
``docs/scaling.md``); the counts come from :mod:`netflag.devtools.shardsim.counting`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netflag.devtools.shardsim.counting import Row


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
