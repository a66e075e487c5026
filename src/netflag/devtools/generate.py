"""Synthetic event logs shaped like the original challenge's sample data.

The original medium batch log (500,000 lines) is not available, so benchmarks,
demos and tests need a stand-in. Everything is drawn from one
``random.Random(seed)``, so a preset and a seed always give byte-identical files.
Pure standard library, and nothing from the engine it is meant to exercise, so
it cannot drift with it; its files are written as every output is
(:class:`netflag.io.output.AtomicFile`): both appear whole, or neither does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from netflag.devtools.social import Clock, Graph, new_friendship
from netflag.errors import InputError
from netflag.io.output import AtomicFile, write_error

__all__ = ["PRESETS", "GenerateSummary", "Preset", "generate"]


@dataclass(frozen=True)
class Preset:
    """Size of a generated data set; ``batch_lines`` includes the params line."""

    users: int
    batch_lines: int
    stream_lines: int
    D: int = 3
    T: int = 50


@dataclass(frozen=True)
class GenerateSummary:
    """What :func:`generate` wrote, for the CLI to print."""

    batch_path: Path
    stream_path: Path
    batch_lines: int
    stream_lines: int
    users: int


PRESETS: dict[str, Preset] = {
    "small": Preset(users=1_000, batch_lines=20_000, stream_lines=1_000),
    "medium": Preset(users=10_000, batch_lines=500_000, stream_lines=1_000),
    "large": Preset(users=100_000, batch_lines=5_000_000, stream_lines=100_000),
    "xl": Preset(users=1_000_000, batch_lines=20_000_000, stream_lines=200_000),
}

BATCH_NAME, STREAM_NAME = "batch_log.json", "stream_log.json"
BATCH_START = datetime(2017, 6, 13)
CHUNK_LINES = 10_000  # lines buffered per writelines(): bounds memory
PROGRESS_EVERY = 50_000

_BATCH_UNFRIEND = 0.02  # share of batch graph events
_GRAPH_PHASE = 2 / 3  # graph events are spread over this leading share of the batch
_STREAM_BEFRIEND = 0.20
_STREAM_UNFRIEND = 0.02
_UNFRIEND_EXISTING = 0.95  # the rest are no-op unfriends of random pairs
_ANOMALY_RATE = 0.0075  # of stream purchases: 10-50x the buyer's usual spend
_ANOMALY_FACTOR = (10.0, 50.0)
_MEDIAN_SPEND = 42.0  # with the sigmas below the mean is about 49
_USER_SIGMA = 0.30  # spread of users' typical spend levels
_PURCHASE_SIGMA = 0.45  # spread of one user's purchases around their level


def _pair_line(kind: str, ts: str, id1: str, id2: str) -> str:
    return f'{{"event_type":"{kind}", "timestamp":"{ts}", "id1": "{id1}", "id2": "{id2}"}}\n'


def generate(
    outdir: Path,
    preset: str | Preset = "small",
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateSummary:
    """Write ``batch_log.json`` and ``stream_log.json`` into ``outdir``.

    Both appear when both are whole: a failed or interrupted run leaves neither
    (nor ``outdir``, if it made it). Errors writing them are
    one-line :class:`~netflag.errors.InputError` naming the file.
    """
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        preset = PRESETS[preset]
    if preset.users < 2 or preset.batch_lines < 1 or preset.stream_lines < 0:
        raise ValueError(f"preset needs users >= 2, batch_lines >= 1, stream_lines >= 0: {preset}")

    outdir = Path(outdir)
    made = not outdir.exists()
    if not made and not outdir.is_dir():
        raise InputError(f"cannot write {outdir}: Not a directory")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise write_error(outdir, error) from None
    try:
        with AtomicFile(outdir / BATCH_NAME) as batch, AtomicFile(outdir / STREAM_NAME) as stream:
            return _write(batch, stream, outdir, preset, seed, progress)
    except BaseException:
        if made:
            with suppress(OSError):
                outdir.rmdir()  # only if empty: what this run made, and nothing else
        raise


def _write(
    batch: BinaryIO,
    stream: BinaryIO,
    outdir: Path,
    preset: Preset,
    seed: int,
    progress: Callable[[int, int], None] | None,
) -> GenerateSummary:
    """Draw the logs and write them into ``batch`` and ``stream``."""
    rng = random.Random(seed)
    order = list(range(preset.users))
    rng.shuffle(order)  # hubs are the oldest nodes: give them scattered ids
    ids = [str(i) for i in order]
    # Typical spend per user, in cents (log-normal around _MEDIAN_SPEND).
    level = [100 * _MEDIAN_SPEND * math.exp(rng.gauss(0.0, _USER_SIGMA)) for _ in ids]
    graph = Graph(preset.users, rng)
    clock = Clock(rng, BATCH_START)

    total = preset.batch_lines + preset.stream_lines
    done = 0

    def emit(fh: BinaryIO, lines: list[str]) -> None:
        nonlocal done
        fh.write("".join(lines).encode())
        before, done = done, done + len(lines)
        if progress is not None and before // PROGRESS_EVERY != done // PROGRESS_EVERY:
            progress(done, total)

    rnd, gauss, exp = rng.random, rng.gauss, math.exp
    n = preset.users

    def purchase(ts: str, anomaly_rate: float) -> str:
        u = int(rnd() * n)
        if anomaly_rate and rnd() < anomaly_rate:
            factor = rng.uniform(*_ANOMALY_FACTOR)
        else:
            factor = exp(gauss(0.0, _PURCHASE_SIGMA))
        c = max(1, int(level[u] * factor + 0.5))
        return (
            f'{{"event_type":"purchase", "timestamp":"{ts}", '
            f'"id": "{ids[u]}", "amount": "{c // 100}.{c % 100:02d}"}}\n'
        )

    body = preset.batch_lines - 1
    plan = graph.growth_plan()
    befriends = sum(plan)
    unfriends = round(befriends * _BATCH_UNFRIEND / (1 - _BATCH_UNFRIEND))
    if befriends + unfriends > body:  # tiny custom preset: truncate the graph
        unfriends = int(body * _BATCH_UNFRIEND)
        befriends = body - unfriends
    slots = max(befriends + unfriends, math.ceil(body * _GRAPH_PHASE))
    grow = graph.growth(plan)

    emit(batch, [f'{{"D":"{preset.D}", "T":"{preset.T}"}}\n'])
    for start in range(0, body, CHUNK_LINES):
        lines: list[str] = []
        for _ in range(min(CHUNK_LINES, body - start)):
            ts = clock.tick()
            graph_left = befriends + unfriends
            if slots > 0 and rnd() * slots < graph_left:
                edge = graph.random_edge() if rnd() * graph_left < unfriends else None
                if edge is not None:
                    unfriends -= 1
                    graph.discard(*edge)
                    kind = "unfriend"
                else:
                    befriends -= 1
                    edge = next(grow)
                    graph.add(*edge)
                    kind = "befriend"
                a, b = edge if rnd() < 0.5 else edge[::-1]
                lines.append(_pair_line(kind, ts, ids[a], ids[b]))
            else:
                lines.append(purchase(ts, 0.0))
            slots -= 1
        emit(batch, lines)

    clock.skip()
    for start in range(0, preset.stream_lines, CHUNK_LINES):
        lines = []
        for _ in range(min(CHUNK_LINES, preset.stream_lines - start)):
            ts = clock.tick()
            r = rnd()
            if r < _STREAM_UNFRIEND:
                edge = graph.random_edge() if rnd() < _UNFRIEND_EXISTING else None
                if edge is None:
                    a = int(rnd() * n)
                    edge = (a, (a + 1 + int(rnd() * (n - 1))) % n)
                graph.discard(*edge)
                lines.append(_pair_line("unfriend", ts, ids[edge[0]], ids[edge[1]]))
            elif r < _STREAM_UNFRIEND + _STREAM_BEFRIEND:
                a, b = new_friendship(graph, rng)
                graph.add(a, b)
                lines.append(_pair_line("befriend", ts, ids[a], ids[b]))
            else:
                lines.append(purchase(ts, _ANOMALY_RATE))
        emit(stream, lines)

    if progress is not None:
        progress(done, total)
    return GenerateSummary(
        outdir / BATCH_NAME, outdir / STREAM_NAME, preset.batch_lines, preset.stream_lines, n
    )
