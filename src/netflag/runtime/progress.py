"""Where a long run stands, told as plain calls: which phase, and how far it got.

A run passes through phases (load the batch, build the state, check the
stream); the library announces each one and its progress through a
:class:`Progress` it is handed, and a surface decides how to show them (the
CLI draws rich bars on a terminal, :mod:`netflag.cli.progress`). Nothing here
draws, so the library stays free of terminal code.

>>> seen = Recorder()
>>> seen.phase("load batch", 300, "bytes")
>>> seen.advance(200); seen.advance(100)
>>> seen.phase("check stream", 2, "events")
>>> seen.update(2, checked=2, flagged=1)
>>> seen.finish()
>>> seen.phases, seen.done
(['load batch', 'check stream'], {'load batch': 300, 'check stream': 2})
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from netflag.io.reader import read_once

__all__ = ["TICK_LINES", "Progress", "Recorder", "Unit", "count_lines"]

# What a phase counts: bytes of a file; stream events that are checked (with
# checks and flags); or plain lines and events (nothing checked).
Unit = Literal["bytes", "events", "lines"]
# Loops over lines report every TICK_LINES lines: often enough for a smooth bar,
# rare enough to cost nothing next to a check.
TICK_LINES = 16


class Progress(Protocol):
    """Hears a run's phases in order; every method must be cheap (some run per few lines)."""

    def phase(
        self, name: str, total: int | None = None, unit: Unit = "bytes", detail: str = ""
    ) -> None:
        """A new phase begins (the previous one is complete). ``total`` counts
        ``unit``; None when the work cannot be measured as it goes (a spinner),
        which ``detail`` may say in a few words."""

    def advance(self, amount: int) -> None:
        """``amount`` more units of the current phase are done."""

    def update(self, done: int, checked: int = 0, flagged: int = 0) -> None:
        """The current phase reached ``done`` units; ``checked`` purchases were
        decided and ``flagged`` flagged in it so far (phases counting ``events``)."""

    def finish(self) -> None:
        """The last phase is complete: nothing more follows."""


class Recorder:
    """A :class:`Progress` that remembers the phases and how far each went, for tests."""

    def __init__(self) -> None:
        self.phases: list[str] = []
        self.totals: dict[str, int | None] = {}
        self.done: dict[str, int] = {}
        self.counts: dict[str, tuple[int, int]] = {}
        self.finished = False

    def phase(
        self, name: str, total: int | None = None, unit: Unit = "bytes", detail: str = ""
    ) -> None:
        self.phases.append(name)
        self.totals[name] = total
        self.done[name] = 0

    def advance(self, amount: int) -> None:
        self.done[self.phases[-1]] += amount

    def update(self, done: int, checked: int = 0, flagged: int = 0) -> None:
        self.done[self.phases[-1]] = done
        self.counts[self.phases[-1]] = (checked, flagged)

    def finish(self) -> None:
        self.finished = True


def count_lines(path: Path) -> int | None:
    """Lines of ``path`` (a last line without its newline counts): a stream phase's total.

    One pass of ``bytes.count`` over 1 MiB blocks: far cheaper than the
    checks it measures. Blank lines count too (logs rarely hold any); 0 for a
    file that cannot be read (the run itself then reports why). None for
    anything but a regular file: a pipe (``<(cat log)``) or a FIFO can be read
    only once, and the run needs its lines, so that phase has no total.
    """
    if read_once(path):
        return None
    lines, last = 0, b"\n"
    try:
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
    except OSError:
        return 0
    return lines + (last != b"\n")
