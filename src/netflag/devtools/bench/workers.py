"""Measure the stream phase on Ray workers against one process, and where its time goes.

``python -m netflag.devtools.bench.workers BATCH STREAM 1,2`` prints one JSON
object: the stream phase in one process, the same events applied only (no
check), and the stream phase on each worker count, with the time to ship the
state. Applying is replicated on every worker, deciding is divided, so
``apply / one`` is the serial share ``a`` and ``1 / (a + (1 - a) / N)`` bounds
the speed-up at N workers (Amdahl). Ray's start-up is not counted: a live
run or a cluster pays it once. ``netflag bench --workers`` runs this.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import orjson

from netflag.engine import Engine
from netflag.io.events import LineError, parse_event
from netflag.io.reader import numbered_lines
from netflag.runtime.pipeline import Pipeline
from netflag.runtime.rejects import Rejects


class _Collect:
    """An in-memory writer: the flags, to check the runs agree."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def write(self, number: int, line: bytes) -> None:
        self.lines.append(line)


def measure(batch: Path, stream: Path, counts: list[int]) -> dict[str, Any]:
    """Time the stream phase alone, applied only, and on each number of workers."""
    from netflag.distributed.pipeline import ShardedPipeline
    from netflag.distributed.ray_pool import worker_pool
    from netflag.runtime.batch import load_batch

    loaded, _, _ = load_batch(batch, Rejects())
    state = loaded.state()
    lines = [raw for _, raw in numbered_lines(stream)]

    started = time.perf_counter()
    one = Pipeline(Engine.from_state(state), Rejects(), [alone := _Collect()])
    for raw in lines:
        one.step(raw, "stream")
    one_seconds = time.perf_counter() - started

    engine = Engine.from_state(state)
    started = time.perf_counter()
    for raw in lines:
        try:
            engine.apply(parse_event(raw), check=False)
        except LineError:
            continue
    apply_seconds = time.perf_counter() - started

    runs: dict[str, dict[str, float | bool]] = {}
    for count in counts:
        with worker_pool(count) as pool:
            sink = _Collect()
            started = time.perf_counter()
            sharded = ShardedPipeline(loaded, Rejects(), [sink], pool=pool, apply=False)
            shipped = time.perf_counter() - started
            for raw in lines:
                sharded.step(raw, "stream")
            sharded.flush()
            seconds = time.perf_counter() - started
            sharded.close()
        runs[str(count)] = {"seconds": seconds, "ship": shipped, "same": sink.lines == alone.lines}
    return {
        "events": one.events,
        "checked": one.checked,
        "flagged": one.flagged,
        "one": one_seconds,
        "apply": apply_seconds,
        "workers": runs,
    }


def main(argv: list[str]) -> None:
    batch, stream, counts = argv
    result = measure(Path(batch), Path(stream), [int(n) for n in counts.split(",")])
    sys.stdout.buffer.write(orjson.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
