"""Progress as plain lines, for ``--progress`` on a pipe or a file; and the words of a phase.

A log cannot be redrawn: escape codes would show as garbage and rows erased
at the end would be lost. So off a terminal each phase gets a line when it
ends (what it did and how long it took) and one every :data:`EVERY_SECONDS`
while it runs, with the same words a bar row shows (:func:`counts_text`,
:func:`time_text`, which :mod:`netflag.cli.bars` draws too).

>>> counts_text("bytes", 12_500_000, 46_800_000, 0.5)
'12.5/46.8 MB 25.0 MB/s'
>>> counts_text("events", 500, 1_000, 2.0, checked=400, flagged=3)
'500/1,000 events 200 checks/s 3 flags'
>>> time_text(0.76, finished=True), time_text(2.0, done=500, total=1_000), time_text(75.0)
('in 0.76 s', 'eta 0:02', '1:15')
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.filesize import decimal, pick_unit_and_suffix  # rich's own module: no console

from netflag.cli.display import Display
from netflag.runtime.progress import Unit

EVERY_SECONDS = 5.0  # a running phase's line, this often
SIZES = ["bytes", "kB", "MB", "GB", "TB", "PB"]


def clock(seconds: float) -> str:
    """``0:07``, ``12:34``, ``1:02:03``: short, since terminals are often 80 columns."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def counts_text(
    unit: Unit, done: int, total: int | None, elapsed: float, checked: int = 0, flagged: int = 0
) -> str:
    """What a phase counted so far (of its total, if it has one), with the rate that matters."""

    def rate(amount: float) -> float:
        return amount / elapsed if elapsed > 0 else 0.0

    if unit == "bytes":
        size, suffix = pick_unit_and_suffix(done if total is None else total, SIZES, 1000)
        amount = f"{done / size:,.1f}" + ("" if total is None else f"/{total / size:,.1f}")
        return f"{amount} {suffix} {decimal(int(rate(done)))}/s"
    amount = f"{done:,}" + ("" if total is None else f"/{total:,}")
    if unit == "lines":
        return f"{amount} lines {rate(done):,.0f}/s"
    return f"{amount} events {rate(checked):,.0f} checks/s {flagged:,} flags"


def time_text(
    elapsed: float, *, finished: bool = False, done: float = 0, total: float | None = None
) -> str:
    """Time spent once finished; time left while a phase with a total runs (its average
    pace so far, ``eta -:--`` before any), else time spent so far."""
    if finished:
        return f"in {elapsed:.2f} s" if elapsed < 60 else f"in {clock(elapsed)}"
    if total is None:
        return clock(elapsed)
    if done <= 0:
        return "eta -:--"
    return f"eta {clock((total - done) * elapsed / done)}"


class Lines(Display):
    """A :class:`~netflag.runtime.progress.Progress` written as whole lines on stderr."""

    def __init__(self) -> None:
        self.progress = self
        self._name = ""
        self._total: int | None = None
        self._unit: Unit = "bytes"
        self._detail = ""
        self._done = self._checked = self._flagged = 0
        self._started = self._said = 0.0
        self._running = False

    def __enter__(self) -> Lines:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._running = False  # an unfinished phase (an error) gets no line claiming it ended

    def phase(
        self, name: str, total: int | None = None, unit: Unit = "bytes", detail: str = ""
    ) -> None:
        self._complete()
        self._name, self._total, self._unit, self._detail = name, total, unit, detail
        self._done = self._checked = self._flagged = 0
        self._started = self._said = time.monotonic()
        self._running = True

    def advance(self, amount: int) -> None:
        self._done += amount
        self._tick()

    def update(self, done: int, checked: int = 0, flagged: int = 0) -> None:
        self._done, self._checked, self._flagged = done, checked, flagged
        self._tick()

    def finish(self) -> None:
        self._complete()

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._said >= EVERY_SECONDS:
            self._said = now
            self._say(now, finished=False)

    def _complete(self) -> None:
        """The phase is over: all its work done (as a bar ends at 100%), its time taken."""
        if self._running:
            self._running = False
            self._done = self._total if self._total is not None else self._done
            self._say(time.monotonic(), finished=True)

    def _say(self, now: float, *, finished: bool) -> None:
        elapsed, total = now - self._started, self._total
        words = [self._name]
        if total is not None and total > 0:
            words.append(f"{min(100, 100 * self._done // total)}%")
        if total is None and not self._done:
            words.append(self._detail)  # nothing counted: what it does instead
        else:
            done, checked, flagged = self._done, self._checked, self._flagged
            words.append(counts_text(self._unit, done, total, elapsed, checked, flagged))
        words.append(time_text(elapsed, finished=finished, done=self._done, total=total))
        self.say("netflag: " + " ".join(word for word in words if word))
        sys.stderr.flush()
