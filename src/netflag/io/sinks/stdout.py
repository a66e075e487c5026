"""``-``: flags on standard output, for pipes and for watching.

A pipe cannot take lines back, so after a crash the records written between
the last checkpoint and the crash are written again: at-least-once. Use a
``file:`` or ``redis://`` sink where exactly-once matters.

When stdout is the terminal that also shows a status line (on stderr), the
two must not overwrite each other: the sink is then given that line as a
:class:`Screen`, clears it before each record and has it redrawn once the
records are out. On a pipe or a file the records go out untouched.
"""

from __future__ import annotations

import sys
from typing import Protocol

from netflag.errors import InputError
from netflag.io.sinks.base import Position


class Screen(Protocol):
    """A line drawn in place on the terminal that stdout writes to (the CLI's status line)."""

    def clear(self) -> None:
        """Erase the line, if it is drawn, so the next output starts a clean line."""

    def redraw(self) -> None:
        """Draw the line again if :meth:`clear` erased it."""


class StdoutSink:
    """Writes each record to standard output; skips numbers a checkpoint already covers."""

    def __init__(self, screen: Screen | None = None) -> None:
        self.url = "-"
        self._count = 0
        self._screen = screen

    def resume(self, position: Position | None, run: str) -> None:
        self._count = int(position["count"]) if position else 0

    def write(self, number: int, line: bytes) -> None:
        if number > self._count:
            try:
                if self._screen is not None:
                    self._screen.clear()  # before any byte of the record reaches the terminal
                    sys.stdout.buffer.write(line)
                    sys.stdout.buffer.flush()
                else:
                    sys.stdout.buffer.write(line)
            except BrokenPipeError:
                raise InputError("standard output was closed") from None
            self._count = number

    def push(self) -> None:
        try:
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise InputError("standard output was closed") from None
        if self._screen is not None:
            self._screen.redraw()

    def flush(self) -> Position:
        self.push()
        return {"count": self._count}

    def close(self) -> None:
        pass
