"""Progress as a user sees it: phases in order, honest counts, a bar that ends at 100%.

The library tests record the phases with :class:`netflag.runtime.progress.Recorder`;
the terminal tests run ``netflag replay`` under a real pseudo-terminal and read
what it drew.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from netflag.analysis.explain import explain_line
from netflag.analysis.logs import open_logs
from netflag.analysis.report_data import collect
from netflag.analysis.sweep import Setting, sweep
from netflag.devtools.generate import Preset, generate
from netflag.engine import default_kernel
from netflag.modes.replay import replay
from netflag.runtime.progress import Recorder, count_lines
from netflag.runtime.rejects import Rejects
from tests import paths

BUNDLED = paths.BUNDLED
BATCH, STREAM = BUNDLED / "batch_log.json", BUNDLED / "stream_log.json"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PHASES = "load batch|build state|check stream|replay stream"
# A bar row: a spinner or a tick, the phase, the bar, the percentage when the phase has one.
ROW = re.compile(rf"^([⠀-⣿✓]) ({PHASES}) +\S*\s+(?:([0-9]+)%)?")


@pytest.mark.parametrize("bulk", [None, True, False])
def test_replay_announces_its_phases_with_honest_counts(tmp_path: Path, bulk: bool | None) -> None:
    seen = Recorder()
    summary = replay(BATCH, STREAM, tmp_path / "out.json", bulk=bulk, progress=seen)
    if bulk:  # column-wise: the load cannot be measured as it goes, nor can the build
        assert seen.phases == ["load batch", "build state", "check stream"]
        assert seen.totals["load batch"] is None and seen.totals["build state"] is None
    else:
        assert seen.phases == ["load batch", "check stream"]
        assert seen.totals["load batch"] == seen.done["load batch"] == BATCH.stat().st_size
    lines = count_lines(STREAM)
    assert seen.totals["check stream"] == seen.done["check stream"] == lines == 1_000
    assert seen.counts["check stream"] == (summary.checked, summary.flagged) == (776, 14)
    assert seen.finished


def test_count_lines_counts_a_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"a\n\nb")
    assert count_lines(path) == 3
    assert count_lines(tmp_path / "missing") == 0


@contextmanager
def piped(data: bytes) -> Iterator[Path]:
    """``/dev/fd/N``: the read end of a real pipe that a thread fills with ``data``, then closes."""
    read, write = os.pipe()

    def feed() -> None:
        try:
            with os.fdopen(write, "wb") as handle:
                handle.write(data)
        except BrokenPipeError:  # the reader gave up (a failing test)
            pass

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        yield Path(f"/dev/fd/{read}")
    finally:
        os.close(read)
        thread.join(5)


def test_count_lines_does_not_read_a_pipe() -> None:
    """A pipe read once is gone: no total for it (a spinner), and its lines stay for the run."""
    with piped(b"a\nb\n") as pipe:
        assert count_lines(pipe) is None
        assert pipe.read_bytes() == b"a\nb\n"


def test_a_piped_stream_is_checked_whole_while_progress_is_shown(tmp_path: Path) -> None:
    seen = Recorder()
    with piped(STREAM.read_bytes()) as pipe:
        summary = replay(BATCH, pipe, tmp_path / "out.json", progress=seen)
    assert (summary.checked, summary.flagged) == (776, 14)
    assert seen.totals["check stream"] is None and seen.done["check stream"] == 1_000
    assert seen.counts["check stream"] == (776, 14) and seen.finished

    seen = Recorder()
    with piped(STREAM.read_bytes()) as pipe:
        data = collect(open_logs(BATCH, pipe, Rejects(), progress=seen))
    assert (data.checked_total, data.flagged) == (776, 14)
    assert seen.totals["check stream"] is None and seen.counts["check stream"] == (776, 14)


def test_replay_of_a_piped_stream_with_progress_flags_what_a_file_does(tmp_path: Path) -> None:
    """`netflag replay batch <(cat stream) out --progress`: the bars must not use up the pipe."""
    expected = tmp_path / "expected.json"
    replay(BATCH, STREAM, expected)
    out = tmp_path / "out.json"
    with piped(STREAM.read_bytes()) as pipe:
        done = subprocess.run(
            [sys.executable, "-m", "netflag", "replay", BATCH, pipe, out, "--progress"],
            capture_output=True, text=True, check=False, pass_fds=[int(pipe.name)],
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "776 purchases checked, 14 flagged" in done.stderr
    assert out.read_bytes() == expected.read_bytes()
    streamed = [line for line in done.stderr.splitlines() if "check stream" in line]
    assert streamed and re.fullmatch(  # on a pipe: plain lines, here with no total
        r"netflag: check stream 1,000 events [0-9,]+ checks/s 14 flags in [0-9.]+ s", streamed[-1]
    )
    assert all("eta" not in line for line in streamed)  # no total, so no time left either


def test_analyses_announce_load_then_stream() -> None:
    seen = Recorder()
    data = collect(open_logs(BATCH, STREAM, Rejects(), progress=seen))
    assert seen.phases == ["load batch", "check stream"]
    assert seen.done["load batch"] == BATCH.stat().st_size
    assert seen.counts["check stream"] == (data.checked_total, data.flagged) == (776, 14)
    assert seen.finished

    seen = Recorder()
    logs = open_logs(BATCH, STREAM, Rejects(), progress=seen)
    result = sweep(logs, [Setting(3, 50, logs.params.k)], Setting(3, 50, logs.params.k))
    assert seen.phases == ["load batch", "check stream"]
    assert seen.counts["check stream"] == (result.checked, 14)

    seen = Recorder()
    explain_line(open_logs(BATCH, STREAM, Rejects(), progress=seen), 34)
    assert seen.phases == ["load batch", "replay stream"]
    assert seen.totals["replay stream"] == seen.done["replay stream"] == 34
    assert seen.finished


# --- under a pseudo-terminal ----------------------------------------------------------------


def in_terminal(
    command: list[str | Path], env: dict[str, str] | None = None, *, stdout: bool = False
) -> tuple[int, str]:
    """Run ``command`` with stderr (and ``stdout`` too, if asked) on a 120x40
    pseudo-terminal; its exit code and what it drew."""
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    environment = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color", **(env or {})}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        environment.pop(name, None)
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=child if stdout else subprocess.DEVNULL,
        stderr=child,
        env=environment,
    )
    os.close(child)
    drawn = bytearray()
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main)
    return process.wait(), drawn.decode()


def netflag(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """``netflag ARGS`` in a terminal."""
    return in_terminal([sys.executable, "-m", "netflag", *args], env)


def rows(drawn: str) -> list[tuple[str, str, int | None, str]]:
    """Every bar row drawn, in order: (mark, phase, percent or None, the whole row)."""
    found = []
    for line in re.split(r"[\r\n]", ANSI.sub("", drawn)):
        match = ROW.match(line.strip())
        if match:
            percent = None if match.group(3) is None else int(match.group(3))
            found.append((match.group(1), match.group(2).strip(), percent, line.strip()))
    return found


def first_appearances(found: list[tuple[str, str, int | None, str]]) -> list[str]:
    order: list[str] = []
    for _, phase, _, _ in found:
        if phase not in order:
            order.append(phase)
    return order


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """About 14 MiB of batch (over the column-wise loader's 8 MiB) and 40,000 stream lines."""
    folder = tmp_path_factory.mktemp("big")
    made = generate(folder, Preset(users=8_000, batch_lines=150_000, stream_lines=40_000), seed=5)
    short = folder / "stream_2k.json"  # for the pure-Python engine, which checks more slowly
    short.write_bytes(b"".join(made.stream_path.read_bytes().splitlines(keepends=True)[:2_000]))
    return made.batch_path, made.stream_path, short


def check_drawn(drawn: str, phases: list[str], stream: Path, expected: Path, out: Path) -> None:
    """What the terminal showed: phases in order, the stream bar counting up to 100%,
    the summary line after the bars, and the flags a run without bars writes."""
    found = rows(drawn)
    assert first_appearances(found) == phases, drawn[-2000:]
    stream_rows = [row for row in found if row[1] == "check stream"]
    percents = [percent for _, _, percent, _ in stream_rows if percent is not None]
    assert percents == sorted(percents) and percents[-1] == 100
    mark, _, _, last = stream_rows[-1]
    lines = count_lines(stream)
    flags = expected.read_bytes().count(b"\n")
    assert mark == "✓" and f"{lines:,}/{lines:,} events" in last and f"{flags:,} flags" in last
    summary = ANSI.sub("", drawn).replace("\r", "\n").strip().splitlines()[-1]
    assert re.fullmatch(
        rf"netflag: [0-9,]+ events read, [0-9,]+ purchases checked, {flags:,} flagged, .*", summary
    )
    assert out.read_bytes() == expected.read_bytes()


@pytest.mark.skipif(default_kernel() != "compiled", reason="the compiled core is not built")
def test_replay_in_a_terminal_shows_its_phases_and_ends_at_100(
    big_log: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    batch, stream, _ = big_log
    expected = tmp_path / "expected.json"
    replay(batch, stream, expected)
    code, drawn = netflag("replay", batch, stream, tmp_path / "out.json")  # no --progress
    assert code == 0
    check_drawn(drawn, ["load batch", "check stream"], stream, expected, tmp_path / "out.json")
    loads = [row for row in rows(drawn) if row[1] == "load batch"]
    assert f"{batch.stat().st_size / 1e6:.1f}/{batch.stat().st_size / 1e6:.1f} MB" in loads[-1][3]


def test_column_wise_load_shows_a_labelled_spinner_then_builds_the_state(
    big_log: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    batch, _, stream = big_log
    expected = tmp_path / "expected.json"
    replay(batch, stream, expected)
    pure = {"NETFLAG_PUREPYTHON": "1"}
    code, drawn = netflag("replay", batch, stream, tmp_path / "out.json", env=pure)
    assert code == 0
    phases = ["load batch", "build state", "check stream"]
    check_drawn(drawn, phases, stream, expected, tmp_path / "out.json")
    spinning = [row for row in rows(drawn) if row[1] == "load batch" and row[0] != "✓"]
    assert spinning and all(row[2] is None and "column-wise" in row[3] for row in spinning)


def test_no_progress_and_short_runs_draw_nothing_and_never_import_rich(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    code, drawn = netflag("replay", BATCH, STREAM, out, "--no-progress")
    assert code == 0 and rows(drawn) == []
    assert ANSI.sub("", drawn).strip().startswith("netflag: 20,999 events read")
    # A short run on a terminal: no bars, and rich is not even imported (start-up time).
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['netflag', 'replay', {str(BATCH)!r}, {str(STREAM)!r}, {str(out)!r}]\n"
        "try:\n    runpy.run_module('netflag', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('rich modules: %d\\n' % sum(m.startswith('rich') for m in sys.modules))\n"
    )
    code, drawn = in_terminal([sys.executable, "-c", script])
    assert code == 0 and rows(drawn) == [] and "rich modules: 0" in drawn


def test_progress_on_a_pipe_is_plain_whole_lines(tmp_path: Path) -> None:
    """Issue 18: --progress into a pipe wrote raw escape codes and erased its own rows."""
    command = [sys.executable, "-m", "netflag", "replay", BATCH, STREAM, tmp_path / "o.json"]
    done = subprocess.run([*command, "--progress"], capture_output=True, check=True)
    assert b"\x1b" not in done.stderr and done.stderr.endswith(b"\n")
    lines = done.stderr.decode().splitlines()
    size = f"{BATCH.stat().st_size / 1e6:.1f}"
    running = rf"netflag: ({PHASES}) [0-9]+% .* eta [-:0-9]+"  # every few seconds of a phase
    kept = [line for line in lines if not re.fullmatch(running, line)]
    expected = [
        rf"netflag: load batch 100% {size}/{size} MB [0-9.]+ [kMG]?B/s in [0-9.]+ s",
        r"netflag: check stream 100% 1,000/1,000 events [0-9,]+ checks/s 14 flags in [0-9.]+ s",
        r"netflag: 20,999 events read, 776 purchases checked, 14 flagged, 0 rejected in [0-9.]+ s"
        r" \(D=3 T=50 k=3\)",
    ]
    assert len(kept) == len(expected), lines
    for pattern, line in zip(expected, kept, strict=True):
        assert re.fullmatch(pattern, line), line
