"""What happens to bad lines: a :class:`Rejection` says where and why, :class:`Rejects` decides.

Every surface and the batch load share one policy per run (SPEC section 5): a
bad line is counted, copied to a dead-letter output, reported, and skipped; in
strict mode the first one stops the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from netflag.engine import Event
from netflag.errors import RejectedLine
from netflag.io.events import LineError, parse_event
from netflag.io.output import rejection_record


class Writer(Protocol):
    """Where numbered records go: every live :class:`~netflag.io.sinks.Sink` is one.

    Numbers run 1, 2, 3... per output in stream order, which is what lets a
    resumable sink skip the records it already holds.
    """

    def write(self, number: int, line: bytes, /) -> None: ...


@dataclass(frozen=True, slots=True)
class Rejection:
    """A skipped line: where it was (file or source, line or position), why, and its bytes.

    ``line`` is None when ``source`` already says where, e.g. ``URL#ID`` for a
    Redis entry (as for :class:`~netflag.errors.RejectedLine`).
    """

    source: str
    line: int | None
    reason: str
    raw: bytes

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.source}: {self.reason}"
        return f"{self.source}:{self.line}: {self.reason}"

    def record(self) -> bytes:
        """Its dead letter as replay's rejects file holds it: file, line, reason, raw."""
        return rejection_record(self.source, self.line, self.reason, self.raw)


class Rejects:
    """What happens to bad lines: counted, copied to a dead-letter output, reported, or fatal.

    One policy for a whole run, batch and stream alike, so dead letters are
    numbered in one sequence and ``count`` is the run's rejected total (a
    resumed run starts from its checkpointed ``count``).
    """

    def __init__(
        self,
        *,
        strict: bool = False,
        sink: Writer | None = None,
        report: Callable[[Rejection], None] | None = None,
        count: int = 0,
    ) -> None:
        self.strict = strict
        self.sink = sink
        self.report = report
        self.count = count

    def __call__(self, rejection: Rejection, record: Callable[[str], bytes] | None = None) -> None:
        """Handle one bad line; ``record(reason)`` builds its dead letter when a rejects-file
        record (:meth:`Rejection.record`) does not fit, e.g. for a Redis entry.

        In strict mode this raises :class:`RejectedLine` before anything is
        written, so a live run stops before its next checkpoint moves.
        """
        self.count += 1
        if self.strict:
            raise RejectedLine(rejection.source, rejection.line, rejection.reason)
        if self.sink is not None:
            letter = rejection.record() if record is None else record(rejection.reason)
            self.sink.write(self.count, letter)
        if self.report is not None:
            self.report(rejection)

    def events(
        self, source: str, lines: Iterable[tuple[int, bytes]]
    ) -> Iterator[tuple[int, bytes, Event]]:
        """Parse numbered lines into ``(number, raw, event)``, handing bad ones to ``self``."""
        for number, raw in lines:
            try:
                event = parse_event(raw)
            except LineError as error:
                self(Rejection(source, number, str(error), raw))
                continue
            yield number, raw, event
