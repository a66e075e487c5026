"""Rich bars for the phases a run announces: one row per phase, each counted in its own unit.

Imported only when bars are shown (:mod:`netflag.cli.progress`): rich costs
tens of milliseconds to import. A row shows what its phase can honestly
measure: bytes and their rate while a file is read, events with checks a
second and flags so far while a stream is checked (its ETA from that check
rate), and only a spinner and the time spent when nothing can be measured as
it goes (the column-wise load). Finished phases stay listed, ticked, until the
run ends and the bars make way for the summary line.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Column
from rich.text import Text

from netflag.cli.display import Display
from netflag.cli.plain import counts_text, time_text
from netflag.runtime.progress import Unit

PUSH_SECONDS = 0.05  # counts reach rich at most this often; it redraws 10 times a second
PUSH_BYTES = 1 << 18  # bytes gathered before rich hears them (per-line loaders report often)
# The time column holds "eta 1:02:03" at most, and sits before the counts, which grow as they
# go: so neither its own text nor the counts beside it move the columns on a redraw.
TIME_WIDTH = 11


class _Counts(ProgressColumn):
    """What the phase counted so far (of its total, if it has one), with the rate that matters."""

    def render(self, task: Task) -> Text:
        if task.fields["spinner"]:
            return Text(task.fields["detail"])
        total = None if task.total is None else int(task.total)  # None: a pipe, read once
        fields = task.fields
        return Text(
            counts_text(
                fields["unit"],
                int(task.completed),
                total,
                task.elapsed or 0.0,
                fields["checked"],
                fields["flagged"],
            )
        )


class _Time(ProgressColumn):
    """Time left while a measurable phase runs, time spent otherwise (:func:`time_text`)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        finished = task.finished or task.stop_time is not None
        total = None if task.fields.get("spinner") else task.total
        return Text(time_text(elapsed, finished=finished, done=task.completed, total=total))


class Bars(Display):
    """A :class:`~netflag.runtime.progress.Progress` drawn with rich on stderr; a context manager.

    A phase without a total spins: it shows its ``detail`` until it counts
    something (a stream read from a pipe), then its counts, with no ETA.
    """

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self._bars = RichProgress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=2, max_width=30)),
            TaskProgressColumn(),
            _Time(table_column=Column(no_wrap=True, width=TIME_WIDTH)),
            _Counts(table_column=Column(no_wrap=True, overflow="ellipsis")),
            console=self.console,
            transient=True,
            redirect_stdout=False,  # stdout may carry results (live's `--sink -`)
        )
        self.progress = self
        self._task: TaskID | None = None
        self._total: int | None = None
        self._pending = self._push_every = self._done = 0
        self._counts: tuple[int, int, int] | None = None
        self._pushed = 0.0
        self.showing = False

    def __enter__(self) -> Bars:
        self._bars.start()
        self.showing = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def say(self, line: str) -> None:
        if self.showing:
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(line + "\n")

    # The library's side: netflag.runtime.progress.Progress.

    def phase(
        self, name: str, total: int | None = None, unit: Unit = "bytes", detail: str = ""
    ) -> None:
        self._complete()
        self._total = total
        self._pending, self._done, self._counts = 0, 0, None
        self._push_every = PUSH_BYTES if unit == "bytes" else 1
        self._task = self._bars.add_task(
            name, total=total, unit=unit, detail=detail, checked=0, flagged=0, spinner=total is None
        )
        self._bars.refresh()  # a new phase shows at once, however short it turns out

    def advance(self, amount: int) -> None:
        self._pending += amount
        if self._pending >= self._push_every:
            self._push()

    def update(self, done: int, checked: int = 0, flagged: int = 0) -> None:
        self._counts = (done, checked, flagged)
        now = time.monotonic()
        if now - self._pushed >= PUSH_SECONDS:
            self._push()
            self._pushed = now

    def finish(self) -> None:
        self._complete()
        self._stop()

    def _push(self) -> None:
        if self._task is None:
            return
        if self._pending:
            self._bars.advance(self._task, self._pending)
            self._done += self._pending
            self._pending = 0
        if self._counts is not None:
            self._done, checked, flagged = self._counts
            self._bars.update(self._task, completed=self._done, checked=checked, flagged=flagged)
        if self._total is None and self._done:  # counts to show instead of the detail
            self._bars.update(self._task, spinner=False)

    def _complete(self) -> None:
        """The current phase is over: all its work done, its clock stopped."""
        if self._task is None:
            return
        self._push()
        # Without a total the phase ends where it got to; a spinner's that counted nothing, once.
        total = self._total if self._total is not None else self._done or 1
        self._bars.update(self._task, total=total, completed=total)
        self._bars.stop_task(self._task)
        self._task = None

    def _stop(self) -> None:
        """Take the bars off the screen (a final frame first); later lines print plainly."""
        if self.showing:
            self.showing = False
            self._bars.stop()
