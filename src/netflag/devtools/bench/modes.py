"""``netflag bench`` rows of the modes beyond one replay: live, serve, Ray workers and shards.

Live mode drains a stream through a throwaway redis-server, ``netflag serve``
answers requests on loopback, the stream phase runs on Ray workers against
one process, and replay runs on P shards against one process. Each measures
through its own module beside this one (:mod:`~netflag.devtools.bench.live`,
:mod:`~netflag.devtools.bench.serve`, :mod:`~netflag.devtools.bench.workers`)
or ``netflag replay`` itself; the CLI asks for a row only when its extra is
installed.
"""

from __future__ import annotations

import sys
import tempfile
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from netflag.devtools.bench.core import FULL, Row, Workbench, describe, run_measured
from netflag.devtools.generate import PRESETS

SHARDS_STREAM = 5_000  # stream lines a shards row checks: the runs of docs/scaling.md


class ModeRows(Workbench):
    """Live throughput, the service's requests/s and events/s, the speed-up on Ray workers,
    replay on shards."""

    def live(self) -> None:
        """Live mode end to end against a throwaway local redis-server."""
        from netflag.devtools.bench.live import measure_live_throughput
        from netflag.devtools.servers import RedisServer

        batch, stream = self.workload("checks", self.sizes.checks, 2)
        with tempfile.TemporaryDirectory() as folder, RedisServer(Path(folder) / "redis") as server:
            url = f"redis://127.0.0.1:{server.port}/bench"
            result = measure_live_throughput(batch, stream, url, Path(folder))
        self.results.rows.append(
            Row(
                f"live: Redis stream -> file + Redis sinks, {describe(self.sizes.checks)}",
                result.events,
                result.seconds,
                note=f"{result.per_second:,.0f} events/s, {result.checkpoints} checkpoints",
            )
        )

    def serve(self) -> None:
        """``netflag serve`` on loopback: single-event POSTs at 16 clients, NDJSON bodies."""
        from netflag.devtools.bench.serve import measure_serve

        batch, stream = self.workload("serve", self.sizes.serve, 2)  # a stream to last
        with tempfile.TemporaryDirectory() as folder:
            out = measure_serve(batch, stream, Path(folder) / "state", self.sizes.serve_seconds)
        shape = describe(self.sizes.serve)
        self.results.rows.append(
            Row(
                f"serve: 1-event POSTs, 16 keep-alive clients, {shape} (rate: requests/s)",
                int(out["requests"]),
                out["seconds"],
                checks_per_second=out["requests_per_second"],
                p99_ms=out["p99_ms"],
                note=f"p50 {out['p50_ms']:.1f} ms, p99 {out['p99_ms']:.1f} ms",
            ).against("serve")
        )
        self.results.rows.append(
            Row(
                f"serve: NDJSON POSTs of 1,000 events, 2 clients, {shape} (rate: events/s)",
                int(out["bulk_events"]),
                out["bulk_seconds"],
                checks_per_second=out["bulk_events_per_second"],
                p99_ms=out["bulk_p99_ms"],
                note=f"p99 {out['bulk_p99_ms']:.0f} ms a request",
            ).against("serve ndjson")
        )

    def workers(self, counts: tuple[int, ...]) -> None:
        """The stream phase on Ray workers against one process: speed-up and its Amdahl limit.

        On the medium 20k stream (the checks workload) and the large preset's
        100k stream. Applying events is replicated on every worker, deciding
        is divided: ``apply`` / one process is the serial share that bounds the
        speed-up. Ray's start-up is not counted; shipping the state is.
        """
        shown = ",".join(map(str, counts))
        for name, preset, seed in (
            ("checks", self.sizes.checks, 2),
            ("large", PRESETS["large"] if self.sizes is FULL else self.sizes.medium, 5),
        ):
            batch, stream = self.workload(name, preset, seed)
            self.say(f"workers {shown} on {batch.parent.name}")
            command = [
                sys.executable,
                "-m",
                "netflag.devtools.bench.workers",
                str(batch),
                str(stream),
            ]
            out = orjson.loads(run_measured([*command, shown]).output)
            one, apply = out["one"], out["apply"]
            share = apply / one
            shape = describe(preset)
            self.results.rows.append(
                Row(
                    f"stream phase, one process, {shape}",
                    out["events"],
                    one,
                    checks_per_second=out["checked"] / one,
                    note=f"apply {share:.0%} (replicated), decide {1 - share:.0%} (divided)",
                )
            )
            for count, run in out["workers"].items():
                n = int(count)
                limit = 1 / (share + (1 - share) / n)
                same = "same flags" if run["same"] else "FLAGS DIFFER"
                self.results.rows.append(
                    Row(
                        f"stream phase, {n} Ray worker{'s' if n > 1 else ''}, {shape}",
                        out["events"],
                        run["seconds"],
                        checks_per_second=out["checked"] / run["seconds"],
                        note=f"x{one / run['seconds']:.2f} (Amdahl limit x{limit:.2f}),"
                        f" ship state {run['ship']:.2f} s, {same}",
                    )
                )

    def shards(self, counts: tuple[int, ...], out: Path) -> None:
        """``netflag replay --shards P`` against one process, on the large preset's batch and
        its first 5,000 stream lines: checks/s, the load, memory per shard and traffic.

        Each run's ``--stats`` stays in ``out`` as ``shards-P.json``: ``python -m
        netflag.devtools.shardsim --costs-from OUT/shards-1.json,OUT/shards-2.json``
        prices a cluster with them.
        """
        preset = PRESETS["large"] if self.sizes is FULL else self.sizes.medium
        batch, whole = self.workload("large", preset, 5)
        stream = whole.with_name(f"stream-{SHARDS_STREAM}.json")
        if not stream.exists():
            with whole.open("rb") as lines:
                stream.write_bytes(b"".join(islice(lines, SHARDS_STREAM)))
        shape = f"{describe(preset).split(',')[0]}, the first {SHARDS_STREAM:,} stream lines"
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as folder:
            alone = Path(folder) / "alone.json"
            command = [sys.executable, "-m", "netflag", "replay", str(batch), str(stream)]
            one = run_measured([*command, str(alone), "--quiet", "--no-progress"])
            row = Row(f"replay, one process, {shape}", 0, one.seconds, peak_mib=one.peak_mib)
            self.results.rows.append(row)
            for count in counts:
                self.say(f"replay --shards {count} on {batch.parent.name}")
                flags, stats = Path(folder) / f"shards-{count}.json", out / f"shards-{count}.json"
                run = run_measured(
                    [*command, str(flags), "--shards", str(count), "--stats", str(stats)]
                    + ["--quiet", "--no-progress"]
                )
                figures = orjson.loads(stats.read_bytes())
                row.events = figures["checks"]  # the same checks as every shards run
                self.results.rows.append(
                    _shards_row(
                        count,
                        shape,
                        run.seconds,
                        figures,
                        same=(flags.read_bytes() == alone.read_bytes()),
                    )
                )


def _shards_row(
    count: int, shape: str, seconds: float, figures: dict[str, Any], *, same: bool
) -> Row:
    """One ``--shards`` run's row, from its wall time and its ``--stats``."""
    parts, timing, per = figures["shards"], figures["seconds"], figures["per_check"]
    state = [part["state_bytes"] for part in parts]
    checking = timing["total"] - timing["load"]
    return Row(
        f"replay --shards {count}, {shape}",
        figures["checks"],
        seconds,
        checks_per_second=figures["checks"] / checking if checking > 0 else None,
        peak_mib=max(part["peak_rss_bytes"] for part in parts) / 2**20,
        note=f"load {timing['load']:.1f} s; largest shard {max(state) / sum(state):.1%} of the"
        f" state; driver {figures['driver_peak_rss_bytes'] / 2**20:.0f} MiB;"
        f" {per['messages']:.1f} messages, {per['ids']:,.0f} ids a check;"
        f" {'same flags' if same else 'FLAGS DIFFER'}",
    )
