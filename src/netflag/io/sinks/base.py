"""The Sink protocol: where live mode writes flags (or dead letters), exactly once.

Live mode numbers the records of each sink 1, 2, 3... in stream order; the
numbering is deterministic, because the engine is. A sink's *position* (small
JSON data: a byte length, the last Redis entry id, and the count) is stored in
every checkpoint. After a crash, :meth:`Sink.resume` gets the checkpoint's
position back and returns to it: a file is trimmed to the checkpointed length;
a Redis stream is scanned past it for records this run already wrote, and
:meth:`Sink.write` then skips every record number it already holds. Records
after the checkpoint are recomputed identically, so each one lands exactly once.
"""

from __future__ import annotations

from typing import Protocol

Position = dict[str, str | int]
"""Where a sink stands, as JSON data; only the sink that made it reads it."""


class Sink(Protocol):
    """An ordered, resumable output of JSON lines."""

    url: str
    """What the user typed, for messages."""

    def resume(self, position: Position | None, run: str) -> None:
        """Continue after ``position`` (None: a fresh run) for run id ``run``."""

    def write(self, number: int, line: bytes) -> None:
        """Record ``line`` (ending in ``\\n``) as record ``number``; skip numbers already held."""

    def push(self) -> None:
        """Make the records written so far visible to readers (cheap; not yet durable)."""

    def flush(self) -> Position:
        """Make every record durable and return the position a checkpoint may store."""

    def close(self) -> None:
        """Release files and connections (after :meth:`flush` when the run ends cleanly)."""
