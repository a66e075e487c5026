"""The Source protocol: where live mode reads event lines from, and how it acknowledges them.

A source hands out ``(position, raw_line)`` pairs in order. A *position* is
small JSON data (a file's inode and byte offset, a Redis entry id) that names
the point just after its line: live mode stores the last one it processed in
each checkpoint and gives it back to :meth:`Source.resume` after a restart, so
reading continues exactly after the last line the checkpoint covers. Nothing is
acknowledged upstream before :meth:`Source.commit`, which live mode calls only
once the flags and the engine state covering that position are durable.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

Position = dict[str, str | int]
"""Where a source stands, as JSON data; only the source that made it reads it."""

Line = tuple[Position, bytes]
START = "the start of the source"  # a position not yet taken: nothing read


def line_and_byte(position: Position | None) -> str:
    """A position in a file (or stdin) in words: the line it follows and its byte offset.

    >>> line_and_byte({"inode": 7, "offset": 92158, "line": 1000}), line_and_byte(None)
    ('line 1,000 (byte 92,158)', 'the start of the source')
    """
    if position is None:
        return START
    return f"line {int(position['line']):,} (byte {int(position['offset']):,})"


class Lag(NamedTuple):
    """How far behind the reader is: ``value`` ``unit`` (bytes, lines, entries) not yet read;
    ``parts``: the same by part, for a source of several (a topic's partitions, by number).

    >>> str(Lag(1024, "bytes"))
    '1,024 bytes'
    """

    value: int
    unit: str
    parts: tuple[tuple[str, int], ...] = ()

    def __str__(self) -> str:
        return f"{self.value:,} {self.unit}"


class Source(Protocol):
    """An ordered feed of event lines that can resume at a position."""

    url: str
    """What the user typed, for messages."""
    finished: bool
    """True once the source can never yield again (end of stdin or of a list)."""

    def resume(self, position: Position | None, run: str | None = None) -> None:
        """Start reading just after ``position`` (None: from the very beginning).

        ``run`` is the id of the live run that will commit, None when nothing will be
        (no state directory): a source shared by readers (a consumer group) may check
        that no other run holds it.
        """

    def poll(self, timeout: float, limit: int) -> list[Line]:
        """Up to ``limit`` lines, waiting at most ``timeout`` seconds for the first one."""

    def commit(self, position: Position) -> None:
        """Everything up to ``position`` is durably processed: acknowledge it upstream."""

    def describe(self, position: Position) -> str:
        """``PATH:LINE`` or ``URL#ID``: where a line was, for one-line messages."""

    def position_text(self, position: Position | None) -> str:
        """Where the source stands in words (``line 1,000 (byte 92,158)``, ``entry 17-0``;
        :data:`START` for None), for a checkpoint's log message."""

    def reject_record(self, position: Position, reason: str, raw: bytes) -> bytes:
        """The dead-letter JSON line for a rejected line at ``position``."""

    def lag(self) -> Lag | None:
        """How far behind the reader is (for the status), None when the source cannot tell."""

    def close(self) -> None:
        """Release files and connections."""
