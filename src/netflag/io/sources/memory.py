"""ListSource: an in-memory source for tests and for library users who already hold lines."""

from __future__ import annotations

import time

from netflag.io.output import rejection_record
from netflag.io.sources.base import START, Lag, Line, Position


class ListSource:
    """Lines from a list; position ``{"index": i}`` is the count of lines consumed.

    ``more()`` appends lines later (a growing stream); with ``ends`` the source
    is finished once every line is consumed, otherwise it waits for more.
    """

    def __init__(self, lines: list[bytes], *, name: str = "list", ends: bool = True) -> None:
        self.url = name
        self.finished = False
        self._lines = list(lines)
        self._next = 0
        self._ends = ends
        self.committed: Position | None = None

    def more(self, lines: list[bytes]) -> None:
        self._lines.extend(lines)

    def resume(self, position: Position | None, run: str | None = None) -> None:
        self._next = int(position["index"]) if position else 0
        self.finished = False

    def poll(self, timeout: float, limit: int) -> list[Line]:
        start = self._next
        if start == len(self._lines) and not self._ends:
            time.sleep(min(timeout, 0.01))  # nothing yet: do not spin
        self._next = min(len(self._lines), start + limit)
        if self._ends and self._next == len(self._lines):
            self.finished = True
        return [({"index": i + 1}, self._lines[i]) for i in range(start, self._next)]

    def commit(self, position: Position) -> None:
        self.committed = position

    def describe(self, position: Position) -> str:
        return f"{self.url}:{position['index']}"

    def reject_record(self, position: Position, reason: str, raw: bytes) -> bytes:
        return rejection_record(self.url, int(position["index"]), reason, raw)

    def position_text(self, position: Position | None) -> str:
        return START if position is None else f"line {int(position['index']):,}"

    def lag(self) -> Lag | None:
        return Lag(len(self._lines) - self._next, "lines")

    def close(self) -> None:
        pass
