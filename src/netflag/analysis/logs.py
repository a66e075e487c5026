"""Walk a batch log and a stream log event by event, with line numbers.

:func:`netflag.replay.replay` writes flags; the analyses need more: every
event with its file and line (explain picks a stream line, report tallies batch
purchases too, sweep decides before the engine applies). Parameters and bad
lines are handled by the same parts replay uses, so both read a log alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from netflag.engine import Engine, Event, Params
from netflag.errors import InputError, ParamsError
from netflag.io.reader import describe_os_error, numbered_lines
from netflag.pipeline import Rejects
from netflag.replay import load_batch, read_params


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
    """

    batch: Path
    stream: Path | None
    params: Params
    warnings: list[str]
    rejects: Rejects
    written: Params | None
    _pending: list[tuple[int, bytes]]  # the first line, when it is an event
    _lines: Iterator[tuple[int, bytes]]

    def engine(self) -> Engine:
        """A fresh engine with these parameters."""
        return Engine(self.params)

    def steps(self) -> Iterator[Step]:
        """Every valid event of the batch, then of the stream; bad lines go to ``rejects``."""
        yield from self._parse(str(self.batch), False, chain(self._pending, self._lines))
        yield from self.stream_steps()

    def load(self, D: int | None = None, T: int | None = None) -> Engine:
        """The engine after the whole batch log, as replay loads it (in bulk when large).

        ``D`` and ``T`` replace the parameters in force (a sweep keeps more).
        """
        engine, _, _ = load_batch(
            self.batch, self.rejects, D=D or self.params.D, T=T or self.params.T, k=self.params.k
        )
        return engine

    def stream_steps(self) -> Iterator[Step]:
        """Every valid event of the stream (none without a stream log)."""
        if self.stream is not None:
            yield from self._parse(str(self.stream), True, numbered_lines(self.stream))

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
) -> Logs:
    """Read the batch log's parameters line (overridden by D, T, k) and get ready to walk.

    Raises :class:`~netflag.errors.ParamsError` or :class:`~netflag.errors.InputError`
    with a one-line message, as replay does.
    """
    lines = numbered_lines(batch)
    first = next(lines, None)
    params, skip_first, warnings = read_params(str(batch), first, D, T, k)
    pending = [first] if first is not None and not skip_first else []
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
    return Logs(batch, stream, params, warnings, rejects, written, pending, lines)
