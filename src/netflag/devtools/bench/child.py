"""What runs inside a measured process: ``python -m netflag.devtools.bench.child KIND ...``.

Each kind prints one JSON object on stdout. Running every workload in a fresh
process gives honest start-up times and a peak memory figure of its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

# The parse floor: read every line and parse it with orjson, nothing else.
FLOOR_SCRIPT = """
import sys, orjson
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        for line in handle:
            if line.strip():
                orjson.loads(line)
"""


def checks(batch: Path, stream: Path, D: int, T: int) -> dict[str, object]:
    """Load the batch log, then time the engine over the stream's events alone."""
    from netflag.io.events import LineError, parse_event
    from netflag.io.reader import numbered_lines
    from netflag.runtime.batch import load_batch
    from netflag.runtime.rejects import Rejects

    started = time.perf_counter()
    engine, _, _ = load_batch(batch, Rejects(), D=D, T=T)
    loaded = time.perf_counter()
    events = []
    for _, raw in numbered_lines(stream):
        try:
            events.append(parse_event(raw))
        except LineError:
            continue
    began = time.perf_counter()
    checked = flagged = 0
    for event in events:
        decision = engine.apply(event)
        if decision is not None:
            checked += 1
            flagged += decision.flagged
    seconds = time.perf_counter() - began
    return {"events": len(events), "checked": checked, "flagged": flagged,
            "seconds": seconds, "load_seconds": loaded - started}  # fmt: skip


def snapshot(batch: Path, runs: int = 7) -> dict[str, object]:
    """A checkpoint of the state after ``batch``: its size, and the median time to map it
    and rebuild an engine from it (what a restarted live run or service pays)."""
    import statistics
    import tempfile

    from netflag.engine import Engine
    from netflag.engine import snapshot as snapshots
    from netflag.runtime.batch import load_batch
    from netflag.runtime.rejects import Rejects

    engine, _, _ = load_batch(batch, Rejects())
    state = engine.state()
    times = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checkpoint"
        with path.open("wb") as handle:
            handle.writelines(snapshots.dump_parts(state, version="bench"))
        for _ in range(runs):
            started = time.perf_counter()
            loaded = Engine.from_state(snapshots.load_file(path, version="bench").state)
            times.append(time.perf_counter() - started)
        size = path.stat().st_size
    assert loaded.users == engine.users  # noqa: S101 - a sanity check of the measured work
    return {"seconds": statistics.median(times), "bytes": size, "kept": len(state.ts),
            "runs": runs}  # fmt: skip


def reference(batch: Path, stream: Path) -> dict[str, object]:
    """The engine and the reference oracle on one workload: same bytes, two speeds."""
    import tempfile

    from netflag.devtools.reference import reference_replay
    from netflag.modes.replay import replay

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.json"
        started = time.perf_counter()
        replay(batch, stream, out, bulk=False)
        engine_seconds = time.perf_counter() - started
        ours = out.read_text()
    started = time.perf_counter()
    theirs = reference_replay(batch.read_text(), stream.read_text())
    reference_seconds = time.perf_counter() - started
    return {"engine_seconds": engine_seconds, "reference_seconds": reference_seconds,
            "identical": ours == theirs, "flags": ours.count("\n")}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="netflag.devtools.bench.child")
    parser.add_argument("kind", choices=["checks", "reference", "snapshot"])
    parser.add_argument("batch", type=Path)
    parser.add_argument("stream", type=Path)
    parser.add_argument("--D", type=int, default=3)
    parser.add_argument("--T", type=int, default=50)
    args = parser.parse_args(argv)
    if args.kind == "checks":
        result = checks(args.batch, args.stream, args.D, args.T)
    elif args.kind == "snapshot":
        result = snapshot(args.batch)
    else:
        result = reference(args.batch, args.stream)
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")


if __name__ == "__main__":
    main()
