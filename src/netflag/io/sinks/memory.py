"""ListSink: keeps records in a list; for tests and for library users."""

from __future__ import annotations

from netflag.errors import CheckpointError
from netflag.io.sinks.base import Position


class ListSink:
    """Records in :attr:`lines`; ``resume`` trims the list to the checkpointed count."""

    def __init__(self, name: str = "list") -> None:
        self.url = name
        self.lines: list[bytes] = []
        self.pushes = 0

    def resume(self, position: Position | None, run: str) -> None:
        count = int(position["count"]) if position else 0
        if len(self.lines) < count:
            raise CheckpointError(f"{self.url}: holds fewer records than the checkpoint")
        del self.lines[count:]

    def write(self, number: int, line: bytes) -> None:
        if number > len(self.lines):
            self.lines.append(line)

    def push(self) -> None:
        self.pushes += 1

    def flush(self) -> Position:
        return {"count": len(self.lines)}

    def close(self) -> None:
        pass
