"""``-``: flags on standard output, for pipes and for watching.

A pipe cannot take lines back, so after a crash the records written between
the last checkpoint and the crash are written again: at-least-once. Use a
``file:`` or ``redis://`` sink where exactly-once matters.
"""

from __future__ import annotations

import sys

from netflag.errors import InputError
from netflag.io.sinks.base import Position


class StdoutSink:
    """Writes each record to standard output; skips numbers a checkpoint already covers."""

    def __init__(self) -> None:
        self.url = "-"
        self._count = 0

    def resume(self, position: Position | None, run: str) -> None:
        self._count = int(position["count"]) if position else 0

    def write(self, number: int, line: bytes) -> None:
        if number > self._count:
            try:
                sys.stdout.buffer.write(line)
            except BrokenPipeError:
                raise InputError("standard output was closed") from None
            self._count = number

    def push(self) -> None:
        try:
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise InputError("standard output was closed") from None

    def flush(self) -> Position:
        self.push()
        return {"count": self._count}

    def close(self) -> None:
        pass
