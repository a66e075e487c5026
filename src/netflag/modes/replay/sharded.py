"""Replay on partitioned state (``--shards P``): each shard loads its own users, the driver none.

The driver reads only the batch's parameters line; each shard node reads the
batch itself and keeps what touches its users. The stream then goes through a
:class:`~netflag.distributed.sequencer.Sequencer`, and the flags come out as
one process writes them. ``stats`` (``--stats FILE``) gets each shard's size,
traffic and peak RSS, the means per check, and the driver's own peak RSS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson

from netflag.distributed.nodes import load_batch_on, refuse_pipe, shard_nodes
from netflag.distributed.ray_pool import WorkerPool
from netflag.distributed.sequencer import EPOCH_EVENTS, Sequencer
from netflag.distributed.shards import PHASES, peak_rss
from netflag.engine.kernels import Kernel
from netflag.io.output import AtomicFile
from netflag.io.reader import numbered_lines
from netflag.modes.replay.run import ReplaySummary, check_inputs, check_stream
from netflag.runtime.batch import read_params
from netflag.runtime.pipeline import FileWriter
from netflag.runtime.progress import Progress
from netflag.runtime.rejects import Rejection, Rejects

BYTES_HEADER, BYTES_ID, BYTES_PURCHASE = 16, 8, 24  # a message's header, a key, a gathered entry


def replay_on_shards(
    batch: Path,
    stream: Path,
    out: Path,
    shards: int,
    *,
    pool: WorkerPool | None = None,
    D: object = None,
    T: object = None,
    k: object = None,
    rejects: Path | None = None,
    strict: bool = False,
    on_reject: Callable[[Rejection], None] | None = None,
    progress: Progress | None = None,
    stats: Path | None = None,
    epoch: int = EPOCH_EVENTS,
    kernel: Kernel | None = None,
) -> ReplaySummary:
    """:func:`~netflag.modes.replay.replay` with the state on ``shards`` shard nodes.

    The nodes are Ray actors of ``pool``, or objects in this process without
    one (same output), each running ``kernel`` (compiled when built, by
    default). ``stats`` is written as JSON after the run.
    """
    started = time.perf_counter()
    outputs = [p for p in (rejects, stats) if p is not None]
    check_inputs(out, batch, stream, outputs=outputs)
    refuse_pipe(batch)
    first = next(numbered_lines(batch), None)
    params, _, warnings = read_params(str(batch), first, D, T, k)
    nodes = shard_nodes(shards, params, pool, kernel)
    with ExitStack() as stack:
        sink = stack.enter_context(AtomicFile(out))
        dead = stack.enter_context(AtomicFile(rejects)) if rejects else None
        policy = Rejects(strict=strict, sink=FileWriter(dead) if dead else None, report=on_reject)
        if progress is not None:
            progress.phase("load batch", detail=f"on {shards} shards, each its own users")
        applied, scale = load_batch_on(nodes, batch, params, policy)
        loaded_at = time.perf_counter()
        sequencer = Sequencer(
            nodes, params, policy, [FileWriter(sink)], scale=scale, seq=applied, epoch=epoch
        )
        check_stream(stream, sequencer, progress)
        figures = nodes.get([nodes.call(s, "stats") for s in range(shards)])
    if progress is not None:
        progress.finish()
    summary = ReplaySummary.of(params, applied, sequencer, warnings, started)
    if stats is not None:
        report = shard_stats(figures, sequencer, pool is not None)
        report["seconds"] = {"load": loaded_at - started, "total": summary.seconds}
        with AtomicFile(stats) as file:
            file.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    return summary


def shard_stats(figures: list[dict[str, Any]], sequencer: Sequencer, ray: bool) -> dict[str, Any]:
    """``--stats``: each shard's figures, the means per check, the driver's peak RSS.

    Messages are logical ones (one check, round, sender and receiver, as
    ``bench.shardsim`` counts them); bytes count 16 a message header, 8 a user
    key and 24 a gathered purchase. The work per check (friend-list entries
    read, ids received, purchases looked at by the gather) and the shards'
    seconds in each phase are what a cluster's sizing needs
    (``python -m netflag.devtools.shardsim --costs-from STATS``).
    """
    checks = max(sequencer.checked, 1)
    messages = sum(each["messages"] for each in figures)
    ids = sum(each["ids_sent"] for each in figures)
    entries = sum(each["entries_sent"] for each in figures)
    traffic = BYTES_HEADER * messages + BYTES_ID * ids + BYTES_PURCHASE * entries
    return {
        "shards": figures,
        "per_check": {
            "messages": messages / checks,
            "ids": ids / checks,
            "gathered_purchases": entries / checks,
            "bytes": traffic / checks,
            **{
                name: sum(each[name] for each in figures) / checks
                for name in ("entries_read", "ids_received", "keys_read")
            },
        },
        "busy_seconds": {
            phase: sum(each["busy_seconds"][phase] for each in figures) for phase in PHASES
        },
        "checks": sequencer.checked,
        "epochs": sequencer.epochs,
        "epoch_events": sequencer.epoch,
        "ray": ray,
        "driver_peak_rss_bytes": peak_rss(),
    }
