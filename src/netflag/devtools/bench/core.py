"""What every family of ``netflag bench`` rows shares: sizes, rows, results, child processes.

Figures are medians over ``repeat`` runs where a run is cheap, single runs
elsewhere; every figure is taken in the same invocation, so ratios compare
like with like. Nothing here asserts a timing: it measures and reports.
:class:`Workbench` is the base of each family: it builds the workloads under
one folder (reused between runs) and collects the rows into one
:class:`Results`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

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


class Workbench:
    """Builds workloads under ``data`` (reused between runs) and collects their rows."""

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
