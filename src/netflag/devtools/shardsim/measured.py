"""Unit costs measured by ``netflag replay --shards P --stats`` on Ray, in place of assumed ones.

Two runs on the same logs price every term of :meth:`Costs.cpu_us`:

- **one shard** sends no message, so its kernels' seconds (``busy_seconds``)
  over its work counts price a friend-list entry read in the BFS and a
  purchase looked at by the gather; the rest of the checks' wall time (the
  driver's parse, routing and decision, Ray's calls) is the fixed cost a check;
- **P > 1 shards** then add ids and messages: the kernels' extra seconds over
  what the first run's prices give are the ids' (sent, received, marked), the
  ``decide`` seconds the gathered purchases', and the CPU the shard processes
  spent beyond their kernels (Ray's calls, the arrays' serialisation) the
  logical messages'.

Each shard must be its own process (Ray): ``cpu_seconds`` is per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from netflag.devtools.shardsim.sizing import Costs

Stats = Mapping[str, Any]  # one --stats file, parsed


def measured_costs(one: Stats, many: Stats, machine: Costs | None = None) -> Costs:
    """``machine``'s costs (the defaults' machine when None) with the unit costs priced by
    ``one`` (a ``--shards 1`` run's stats) and ``many`` (``--shards P``, P > 1, same logs)."""
    if len(one["shards"]) != 1 or len(many["shards"]) < 2 or not one["ray"] or not many["ray"]:
        raise ValueError("measured costs need a --shards 1 and a --shards P > 1 run on Ray")
    checks = one["checks"]
    busy, work = one["busy_seconds"], _totals(one)
    entry_ns = 1e9 * (busy["begin"] + busy["step"]) / work["entries_read"]
    read_ns = 1e9 * busy["gather"] / work["keys_read"]
    wall = one["seconds"]["total"] - one["seconds"]["load"]
    check_us = 1e6 * (wall - sum(busy.values())) / checks
    busy, work = many["busy_seconds"], _totals(many)
    if not work["ids_sent"] or not work["messages"] or not work["entries_sent"]:
        raise ValueError("the --shards P run sent no ids, messages or purchases to price")
    kernels = busy["begin"] + busy["step"] + busy["gather"]
    priced = work["entries_read"] * entry_ns + work["keys_read"] * read_ns
    id_ns = max(0.0, 1e9 * kernels - priced) / work["ids_sent"]
    gathered_ns = 1e9 * busy["decide"] / work["entries_sent"]
    shards = many["shards"]
    outside = sum(part["cpu_seconds"] - sum(part["busy_seconds"].values()) for part in shards)
    message_us = 1e6 * max(0.0, outside) / work["messages"]
    return replace(
        machine or Costs(),
        entry_ns=entry_ns,
        id_ns=id_ns,
        message_us=message_us,
        read_ns=read_ns,
        gathered_ns=gathered_ns,
        check_us=check_us,
    )


def _totals(stats: Stats) -> dict[str, float]:
    """The shards' counters, summed."""
    names = ("entries_read", "keys_read", "ids_sent", "entries_sent", "messages")
    return {name: sum(part[name] for part in stats["shards"]) for name in names}
