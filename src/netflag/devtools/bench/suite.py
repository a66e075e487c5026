"""The benchmark suite: generate workloads, run each in its own process, collect rows.

Figures are medians over ``repeat`` runs where a run is cheap, single runs
elsewhere; every figure is taken in the same invocation, so ratios compare
like with like. Nothing here asserts a timing: it measures and reports.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from netflag.devtools.bench.child import FLOOR_SCRIPT
from netflag.devtools.generate import PRESETS, Preset, generate


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each workload is: the real sizes, or tiny ones for a smoke run."""

    medium: Preset
    checks: Preset
    reference: Preset
    users: tuple[int, ...]
    lines_per_user: int
    curve_stream: int
    D_values: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
    T_values: tuple[int, ...] = (2, 10, 50, 200, 1000)
    check_D: tuple[int, ...] = (1, 2, 3, 4, 6)
    xl_users: int = 1_000_000  # the users curve's last point, with --xl
    serve: Preset = Preset(users=10_000, batch_lines=500_000, stream_lines=300_000)
    serve_seconds: float = 5.0  # each of the service's two load runs


FULL = Sizes(
    medium=PRESETS["medium"],
    checks=Preset(users=10_000, batch_lines=500_000, stream_lines=20_000),
    reference=Preset(users=2_000, batch_lines=50_000, stream_lines=300),
    users=(1_000, 10_000, 100_000),
    lines_per_user=20,
    curve_stream=5_000,
)
QUICK = Sizes(
    medium=Preset(users=300, batch_lines=5_000, stream_lines=300),
    checks=Preset(users=300, batch_lines=5_000, stream_lines=500),
    reference=Preset(users=100, batch_lines=800, stream_lines=100),
    users=(100, 300),
    lines_per_user=20,
    curve_stream=300,
    D_values=(1, 2, 3),
    T_values=(2, 50),
    check_D=(1, 2, 3, 4),
    xl_users=1_000,
    serve=Preset(users=300, batch_lines=5_000, stream_lines=20_000),
    serve_seconds=0.5,
)


def _within(seconds: float | None = None, mib: float | None = None, floor: float | None = None,
            rate: float | None = None) -> Callable[[Row], bool]:  # fmt: skip
    """A test on a row: every bound given holds."""

    def holds(row: Row) -> bool:
        return (
            (seconds is None or row.seconds <= seconds)
            and (mib is None or (row.peak_mib is not None and row.peak_mib <= mib))
            and (floor is None or (row.floor_ratio or floor + 1) <= floor)
            and (
                rate is None
                or (row.checks_per_second is not None and row.checks_per_second >= rate)
            )
        )

    return holds


# The targets of the native-core issue, by name: what they say, and their test.
TARGETS: dict[str, tuple[str, Callable[[Row], bool]]] = {
    "replay": ("<= 2x floor, <= 250 MiB", _within(floor=2, mib=250)),
    "checks": (">= 50,000/s", _within(rate=50_000)),
    "checks D=6": (">= 5,000/s", _within(rate=5_000)),
    "snapshot": ("< 0.1 s", _within(seconds=0.1)),
    "startup": ("< 0.15 s CPU", _within(seconds=0.15)),
    "large": ("<= 20 s, <= 1 GiB", _within(seconds=20, mib=1024)),
    "serve": (
        ">= 2,000 req/s, p99 <= 20 ms",
        lambda row: _within(rate=2_000)(row) and (row.p99_ms or 1e9) <= 20,
    ),
    "serve ndjson": (">= 50,000 events/s", _within(rate=50_000)),
    "xl": ("<= 120 s, <= 4 GiB", _within(seconds=120, mib=4096)),
}


@dataclass(slots=True)
class Row:
    """One line of the results table."""

    workload: str
    events: int
    seconds: float
    checks_per_second: float | None = None
    peak_mib: float | None = None
    floor_ratio: float | None = None
    note: str = ""
    target: str = ""
    met: bool | None = None
    p99_ms: float | None = None  # request latency, for the service's rows

    def against(self, name: str) -> Row:
        """This row with the named target and whether it holds."""
        self.target, holds = TARGETS[name]
        self.met = holds(self)
        return self

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("met" if self.met else "NOT met")


@dataclass(slots=True)
class Results:
    rows: list[Row] = field(default_factory=list)
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    def to_markdown(self, machine: str, command: str) -> str:
        """The table and curves as Markdown, ready for docs/benchmarks.md."""
        lines = [
            f"Measured with `{command}` on {machine}.",
            "",
            "| workload | events | s | checks/s | peak MiB | x floor | target | | note |",
            "|---|---:|---:|---:|---:|---:|---|---|---|",
        ]
        for row in self.rows:
            lines.append("| " + " | ".join(cells(row)) + " |")
        for name, points in self.curves.items():
            shown = ", ".join(f"{x:,}: {rate:,.0f}" for x, rate in points)
            lines += ["", f"Checks per second by {name}: {shown}."]
        return "\n".join(lines) + "\n"

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"rows": [asdict(r) for r in self.rows], "curves": self.curves},
            option=orjson.OPT_INDENT_2,
        )


def cells(row: Row) -> list[str]:
    """A row's cells, as the table and Markdown show them."""
    return [
        row.workload,
        f"{row.events:,}",
        f"{row.seconds:.3f}",
        f"{row.checks_per_second:,.0f}" if row.checks_per_second else "",
        f"{row.peak_mib:,.0f}" if row.peak_mib else "",
        f"{row.floor_ratio:.2f}" if row.floor_ratio else "",
        row.target,
        row.verdict,
        row.note,
    ]


def describe(preset: Preset) -> str:
    """``10k users, 500k+20k lines``: the shape of a workload, for row labels."""

    def short(n: int) -> str:
        for size, suffix in ((1_000_000, "M"), (1000, "k")):
            if n % size == 0:
                return f"{n // size}{suffix}"
        return str(n)

    lines = f"{short(preset.batch_lines)}+{short(preset.stream_lines)}"
    return f"{short(preset.users)} users, {lines} lines"


@dataclass(frozen=True, slots=True)
class Measured:
    """One process run: wall and CPU seconds, peak memory, what it printed."""

    seconds: float
    cpu: float
    peak_mib: float
    output: bytes


def run_measured(command: list[str]) -> Measured:
    """Run a command to its exit and measure it (a failure raises RuntimeError)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None  # noqa: S101 - Popen with PIPE always has it
        with process.stdout:
            output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"{' '.join(command[:4])}... failed: {message[-1:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, cpu, usage.ru_maxrss / 1024, output)


def replay_process(batch: Path, stream: Path) -> tuple[float, float]:
    """``netflag replay`` in a fresh process, start to exit: wall seconds and peak MiB."""
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "out.json")
        command = [sys.executable, "-m", "netflag", "replay", str(batch), str(stream), out]
        run = run_measured([*command, "--quiet", "--no-progress"])
    return run.seconds, run.peak_mib


def child(kind: str, batch: Path, stream: Path, *extra: str) -> tuple[float, float, dict]:  # type: ignore[type-arg]
    command = [
        sys.executable,
        "-m",
        "netflag.devtools.bench.child",
        kind,
        str(batch),
        str(stream),
        *extra,
    ]
    run = run_measured(command)
    return run.seconds, run.peak_mib, orjson.loads(run.output)


class Suite:
    """Builds workloads under ``data`` (reused between runs) and measures them."""

    def __init__(
        self, data: Path, sizes: Sizes, repeat: int, say: Callable[[str], None], xl: bool = False
    ) -> None:
        self.data = data
        self.xl_curve = xl  # the users curve reaches xl_users
        self.sizes = sizes
        self.repeat = repeat
        self.say = say
        self.results = Results()

    def workload(self, name: str, preset: Preset, seed: int) -> tuple[Path, Path]:
        folder = (
            self.data
            / f"{name}-u{preset.users}-b{preset.batch_lines}-s{preset.stream_lines}-{seed}"
        )
        batch, stream = folder / "batch_log.json", folder / "stream_log.json"
        if not stream.exists():
            self.say(f"generating {folder.name}")
            generate(folder, preset, seed)
        return batch, stream

    def replay_vs_floor(self) -> None:
        batch, stream = self.workload("medium", self.sizes.medium, 1)
        events = self.sizes.medium.batch_lines + self.sizes.medium.stream_lines
        floors, replays, peaks = [], [], []
        for _ in range(self.repeat):
            floors.append(
                run_measured([sys.executable, "-c", FLOOR_SCRIPT, str(batch), str(stream)]).seconds
            )
            seconds, peak = replay_process(batch, stream)
            replays.append(seconds)
            peaks.append(peak)
        floor = statistics.median(floors)
        replay = statistics.median(replays)
        shape = describe(self.sizes.medium)
        self.results.rows.append(Row(f"parse floor (orjson per line), {shape}", events, floor))
        self.results.rows.append(
            Row(
                f"netflag replay end to end, {shape}",
                events,
                replay,
                peak_mib=max(peaks),
                floor_ratio=replay / floor,
            ).against("replay")
        )

    def checks(self) -> None:
        batch, stream = self.workload("checks", self.sizes.checks, 2)
        for D in self.sizes.check_D:
            seconds, peak, out = child("checks", batch, stream, "--D", str(D))
            rate = out["checked"] / out["seconds"]
            self.results.rows.append(
                Row(
                    f"checks D={D} T=50, {describe(self.sizes.checks)}",
                    out["events"],
                    out["seconds"],
                    checks_per_second=rate,
                    peak_mib=peak,
                    note=f"{out['checked']} checked, {out['flagged']} flagged",
                ).against("checks D=6" if D >= 5 else "checks")
            )

    def snapshot(self) -> None:
        """Loading a checkpoint of the medium state: map the file, rebuild the engine."""
        batch, stream = self.workload("medium", self.sizes.medium, 1)
        _, peak, out = child("snapshot", batch, stream)
        self.results.rows.append(
            Row(
                f"snapshot load (map + engine), {describe(self.sizes.medium)} state",
                out["kept"],
                out["seconds"],
                peak_mib=peak,
                note=f"{out['bytes'] / 2**20:.1f} MiB file, median of {out['runs']}",
            ).against("snapshot")
        )

    def startup(self) -> None:
        """Process CPU time of `netflag --help` and of a 20-line replay (medians)."""
        batch, stream = self.workload("medium", self.sizes.medium, 1)
        tiny = self.data / "tiny"
        tiny.mkdir(parents=True, exist_ok=True)
        for source, target, count in (
            (batch, "batch_log.json", 12),
            (stream, "stream_log.json", 8),
        ):
            with source.open("rb") as lines:
                (tiny / target).write_bytes(b"".join(next(lines) for _ in range(count)))
        with tempfile.TemporaryDirectory() as folder:
            out = str(Path(folder) / "out.json")
            commands = {
                "netflag --help": ["--help"],
                "netflag replay, 20 lines": [
                    "replay",
                    str(tiny / "batch_log.json"),
                    str(tiny / "stream_log.json"),
                    out,
                    "--quiet",
                ],
            }
            for label, args in commands.items():
                runs = [
                    run_measured([sys.executable, "-m", "netflag", *args])
                    for _ in range(max(5, self.repeat))
                ]
                cpu = statistics.median(run.cpu for run in runs)
                self.results.rows.append(
                    Row(
                        f"start-up: {label} (process CPU time)",
                        20 if "replay" in label else 0,
                        cpu,
                        peak_mib=max(run.peak_mib for run in runs),
                        note=f"wall {statistics.median(run.seconds for run in runs):.3f} s",
                    ).against("startup")
                )

    def reference(self) -> None:
        batch, stream = self.workload("reference", self.sizes.reference, 3)
        _, _, out = child("reference", batch, stream)
        speedup = out["reference_seconds"] / out["engine_seconds"]
        same = "identical output" if out["identical"] else "OUTPUT DIFFERS"
        self.results.rows.append(
            Row(
                f"reference engine (BFS+sort+Fraction), {describe(self.sizes.reference)}",
                self.sizes.reference.stream_lines,
                out["reference_seconds"],
                note=f"engine {speedup:.0f}x faster, {same}",
            )
        )

    def curves(self) -> None:
        batch, stream = self.workload("checks", self.sizes.checks, 2)
        limit = self.sizes.curve_stream
        short = self.data / f"stream-{limit}.json"
        if not short.exists():
            with stream.open("rb") as source:
                short.write_bytes(
                    b"".join(line for _, line in zip(range(limit), source, strict=False))
                )
        self.results.curves["D"] = [
            (D, self._rate(batch, short, D=D, T=50)) for D in self.sizes.D_values
        ]
        self.results.curves["T"] = [
            (T, self._rate(batch, short, D=3, T=T)) for T in self.sizes.T_values
        ]
        points = []
        for users in self.sizes.users + ((self.sizes.xl_users,) if self.xl_curve else ()):
            preset = Preset(
                users=users, batch_lines=users * self.sizes.lines_per_user, stream_lines=limit
            )
            b, s = self.workload("users", preset, 4)
            points.append((users, self._rate(b, s, D=3, T=50)))
        self.results.curves["users"] = points

    def _rate(self, batch: Path, stream: Path, *, D: int, T: int) -> float:
        self.say(f"curve point D={D} T={T} on {batch.parent.name}")
        _, _, out = child("checks", batch, stream, "--D", str(D), "--T", str(T))
        return float(out["checked"] / out["seconds"])

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

    def large(self) -> None:
        self._preset("large", 5)

    def xl(self) -> None:
        self._preset("xl", 6)

    def _preset(self, name: str, seed: int) -> None:
        preset = PRESETS[name]
        batch, stream = self.workload(name, preset, seed)
        seconds, peak = replay_process(batch, stream)
        self.results.rows.append(
            Row(
                f"netflag replay end to end, {describe(preset)}",
                preset.batch_lines + preset.stream_lines,
                seconds,
                peak_mib=peak,
            ).against(name)
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
