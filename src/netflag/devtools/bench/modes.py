"""``netflag bench`` rows of the modes beyond one replay: live, serve, and Ray workers.

Live mode drains a stream through a throwaway redis-server, ``netflag serve``
answers requests on loopback, and the stream phase runs on Ray workers against
one process. Each measures through its own module beside this one
(:mod:`~netflag.devtools.bench.live`, :mod:`~netflag.devtools.bench.serve`,
:mod:`~netflag.devtools.bench.workers`); the CLI asks for a row only when its
extra is installed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import orjson

from netflag.devtools.bench.core import FULL, Row, Workbench, describe, run_measured
from netflag.devtools.generate import PRESETS


class ModeRows(Workbench):
    """Live throughput, the service's requests/s and events/s, the speed-up on Ray workers."""

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
