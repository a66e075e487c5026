"""What ``netflag live`` shows a person: flags and the status line on one terminal, its words.

The terminal tests run live under a real pseudo-terminal (the helper of
tests/cli/test_progress.py) and replay what it drew the way a terminal does.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from netflag.engine import Params
from netflag.io.sources import Lag
from netflag.modes.live import LiveStatus, LiveSummary
from netflag.modes.replay import replay
from tests import paths
from tests.cli.test_progress import in_terminal

BATCH, STREAM = paths.BUNDLED / "batch_log.json", paths.BUNDLED / "stream_log.json"
PIECES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\r\n]|[^\x1b\r\n]+")
ERASE = "\x1b[K"  # erase to the end of the line


def screen_lines(drawn: str) -> list[str]:
    """The lines a terminal ends up showing for ``drawn``: ``\\r`` goes back to column 0,
    ``ESC[K`` erases to the end of the line, ``\\n`` ends it (other escapes do nothing here)."""
    lines: list[str] = []
    line: list[str] = []
    column = 0
    for piece in PIECES.findall(drawn):
        if piece == "\r":
            column = 0
        elif piece == "\n":
            lines.append("".join(line))
            line, column = [], 0
        elif piece == ERASE:
            del line[column:]
        elif not piece.startswith("\x1b"):
            for char in piece:
                if column < len(line):
                    line[column] = char
                else:
                    line.append(char)
                column += 1
    return [*lines, "".join(line)] if line else lines


def test_screen_lines_replays_carriage_returns_and_erasing() -> None:
    assert screen_lines("status 1\r\x1b[Kstatus 2\r\x1b[K{flag}\r\nstatus 2") == [
        "{flag}",
        "status 2",
    ]
    assert screen_lines("status 1{flag}\r\n") == ["status 1{flag}"]


def test_flags_on_the_terminal_never_overwrite_the_status_line(tmp_path: Path) -> None:
    """Issue 18: with --sink - each flag was printed at the end of the status line."""
    expected = tmp_path / "expected.json"
    replay(BATCH, STREAM, expected)
    lines = STREAM.read_bytes().splitlines(keepends=True)
    parts = []
    for i in range(4):  # the stream in four parts, a second or more apart: statuses between
        part = tmp_path / f"part{i}"
        part.write_bytes(b"".join(lines[i * 250 : (i + 1) * 250]))
        parts.append(f"cat {shlex.quote(str(part))}")
    live = shlex.join([sys.executable, "-m", "netflag", "live", str(BATCH), "-", "--sink", "-"])
    feed = "; sleep 1.2; ".join(parts)
    code, drawn = in_terminal(["sh", "-c", f"({feed}) | {live}"], stdout=True)
    assert code == 0, drawn
    shown = screen_lines(drawn)
    flags = expected.read_text().splitlines()
    assert len(flags) == 14
    assert [line for line in shown if "event_type" in line] == flags, drawn
    assert shown[-1].startswith("netflag: 1,000 events, 776 purchases checked, 14 flagged")

    # stdout to a file, stderr on the terminal: the flags go there untouched.
    out = tmp_path / "out.json"
    code, drawn = in_terminal(["sh", "-c", f"{live} < {shlex.quote(str(STREAM))} > {out}"])
    assert code == 0, drawn
    assert out.read_bytes() == expected.read_bytes()
    assert "event_type" not in drawn


def test_status_and_summary_say_one_flag_not_one_flags() -> None:
    """Issue 18: "lag 1 entries", "1 flags"."""
    one = LiveStatus(1, 1.0, 1, 1, Lag(1, "entries"), 1.0)
    assert str(one) == "1 event, 1/s, 1 flag, 1 rejected, lag 1 entry, checkpoint 1 s ago"
    many = LiveStatus(2_000, 1_234.5, 2, 0, Lag(1_024, "bytes"), 1_500.0)
    assert str(many) == (
        "2,000 events, 1,234/s, 2 flags, 0 rejected, lag 1,024 bytes, checkpoint 1,500 s ago"
    )
    assert "lag 1 byte," in str(LiveStatus(0, 0.0, 0, 0, Lag(1, "bytes"), 0.0))
    summary = LiveSummary(Params(3, 50), 1, 1, 1, 0, handled=1, checkpoints=1, seconds=0.5)
    assert str(summary) == (
        "1 event, 1 purchase checked, 1 flagged, 0 rejected; this process: 1 line in 0.50 s,"
        " 1 checkpoint (D=3 T=50 k=3)"
    )
    summary = LiveSummary(Params(3, 50), 3, 2, 0, 0, handled=0, checkpoints=2, seconds=1.0)
    assert "3 events, 2 purchases checked," in str(summary) and "0 lines in" in str(summary)
    assert "2 checkpoints" in str(summary)
