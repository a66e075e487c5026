"""Walk a batch log and a stream log event by event, with line numbers.

:func:`netflag.modes.replay.replay` writes flags; the analyses need more: every
event with its file and line (explain picks a stream line, report tallies batch
purchases too, sweep decides before the engine applies). Parameters and bad
lines are handled by the same parts replay uses, so both read a log alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from netflag.engine import Engine, Event, Params
from netflag.errors import InputError, ParamsError
from netflag.io.reader import describe_os_error, numbered_lines, read_once
from netflag.runtime.batch import load_batch, read_params
from netflag.runtime.progress import TICK_LINES, Progress, count_lines
from netflag.runtime.rejects import Rejects


@dataclass(frozen=True, slots=True)
class Step:
    """One valid event: from the batch (``stream`` False) or the stream, at ``line``."""

    stream: bool
    line: int
    raw: bytes
    event: Event


@dataclass(slots=True)
class Logs:
    """A batch + stream pair, opened: the parameters, and the events to walk once.

    Walk either every event with :meth:`steps`, or the engine after the batch
    (:meth:`load`, fast for large files) and then :meth:`stream_steps`.
    ``params`` are the ones in force (overrides applied); ``written`` are the
    batch log's own D and T with k = 3 (None when it has no valid parameters line).
    ``progress`` hears the phases: "load batch" (bytes), then "check stream"
    (or "replay stream" when nothing is checked), whose counts the walker
    reports with :meth:`tick`.
    """

    batch: Path
    stream: Path | None
    params: Params
    warnings: list[str]
    rejects: Rejects
    written: Params | None
    skip_first: bool  # the batch's first line holds the parameters, not an event
    progress: Progress | None = None

    def engine(self) -> Engine:
        """A fresh engine with these parameters."""
        return Engine(self.params)

    def steps(self) -> Iterator[Step]:
        """Every valid event of the batch, then of the stream; bad lines go to ``rejects``."""
        on_bytes = None
        if self.progress is not None:
            self.progress.phase("load batch", self.batch.stat().st_size, "bytes")
            on_bytes = self.progress.advance
        lines = numbered_lines(self.batch, on_bytes)
        if self.skip_first:
            next(lines, None)
        yield from self._parse(str(self.batch), False, lines)
        yield from self.stream_steps()

    def load(self, D: int | None = None, T: int | None = None) -> Engine:
        """The engine after the whole batch log, as replay loads it (in bulk when large).

        ``D`` and ``T`` replace the parameters in force (a sweep keeps more).
        """
        engine, _, _ = load_batch(
            self.batch,
            self.rejects,
            D=D or self.params.D,
            T=T or self.params.T,
            k=self.params.k,
            progress=self.progress,
        )
        return engine

    def stream_steps(self, *, checking: bool = True, until: int | None = None) -> Iterator[Step]:
        """Every valid event of the stream (none without a stream log).

        ``checking`` says whether the walker decides purchases (for the
        phase's name and counts); ``until`` is the line it stops at, if it
        stops early, so that the bar counts to it.
        """
        if self.stream is None:
            return
        if self.progress is not None:
            total = until or count_lines(self.stream)
            if checking:
                self.progress.phase("check stream", total, "events")
            else:
                self.progress.phase("replay stream", total, "lines")
        yield from self._parse(str(self.stream), True, numbered_lines(self.stream))

    def tick(self, line: int, checked: int = 0, flagged: int = 0, *, last: bool = False) -> None:
        """The stream walk reached ``line`` with these counts; ``last``: it is over."""
        if self.progress is None:
            return
        if line and (last or not line % TICK_LINES):  # line 0: no stream line was read
            self.progress.update(line, checked, flagged)
        if last:
            self.progress.finish()

    def _parse(
        self, source: str, stream: bool, lines: Iterator[tuple[int, bytes]]
    ) -> Iterator[Step]:
        for number, raw, event in self.rejects.events(source, lines):
            yield Step(stream, number, raw, event)


def open_logs(
    batch: Path,
    stream: Path | None,
    rejects: Rejects,
    *,
    D: object = None,
    T: object = None,
    k: object = None,
    progress: Progress | None = None,
) -> Logs:
    """Read the batch log's parameters line (overridden by D, T, k) and get ready to walk.

    Raises :class:`~netflag.errors.ParamsError` or :class:`~netflag.errors.InputError`
    with a one-line message, as replay does. The batch log is read more than
    once (its parameters, then its events), so it must be a file, not a pipe.
    """
    if batch.is_dir():  # not "a pipe": the hint below would send a folder's user astray
        raise InputError(f"cannot read {batch}: Is a directory")
    if read_once(batch):
        raise InputError(
            f"{batch} is not a regular file: explain, report and sweep read the batch log"
            " more than once (write it to a file first)"
        )
    first = next(numbered_lines(batch), None)
    params, skip_first, warnings = read_params(str(batch), first, D, T, k)
    written: Params | None = None
    if skip_first:
        try:
            written = read_params(str(batch), first, None, None, None)[0]
        except ParamsError:
            written = None
    if stream is not None:
        try:  # fail now, not after the whole batch
            stream.open("rb").close()
        except OSError as error:
            raise InputError(f"cannot read {stream}: {describe_os_error(error)}") from None
    return Logs(batch, stream, params, warnings, rejects, written, skip_first, progress)
