"""``file:PATH``: flags as JSON Lines, the same bytes ``netflag replay`` writes.

Position ``{"bytes", "count"}``: the file's length and record count at the
checkpoint. A restart truncates the file back to that length (dropping lines
written after the checkpoint, and any half-written one); the run then writes
them again, identically. A file shorter than its checkpoint was changed behind
netflag's back, which is a :class:`CheckpointError`. A fresh run starts the
file empty, as replay does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from netflag.errors import CheckpointError, InputError
from netflag.io.reader import describe_os_error
from netflag.io.sinks.base import Position


def fsync_dir(path: Path) -> None:
    """Make a file's creation, rename or removal in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileSink:
    """Appends records to a file; trims it back to the checkpoint on resume."""

    def __init__(self, path: str) -> None:
        self.url = f"file:{path}"
        self._name = path
        self._path = Path(path)
        self._handle: BinaryIO | None = None
        self._bytes = 0
        self._count = 0

    def resume(self, position: Position | None, run: str) -> None:
        length = int(position["bytes"]) if position else 0
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        except OSError as error:
            raise InputError(f"cannot write {self._name}: {describe_os_error(error)}") from None
        size = os.fstat(fd).st_size
        if size < length:
            os.close(fd)
            raise CheckpointError(
                f"{self._name} holds {size:,} bytes but the checkpoint covers {length:,}:"
                " it was changed outside netflag"
            )
        os.ftruncate(fd, length)
        os.fsync(fd)
        fsync_dir(self._path.parent)
        self._handle = os.fdopen(fd, "ab")
        self._bytes = length
        self._count = int(position["count"]) if position else 0

    def write(self, number: int, line: bytes) -> None:
        if number <= self._count:
            return
        if self._handle is None:
            raise RuntimeError("FileSink.write before resume()")
        try:
            self._handle.write(line)
        except OSError as error:
            raise InputError(f"cannot write {self._name}: {describe_os_error(error)}") from None
        self._bytes += len(line)
        self._count = number

    def push(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def flush(self) -> Position:
        if self._handle is not None:
            try:
                self._handle.flush()
                os.fsync(self._handle.fileno())
            except OSError as error:
                raise InputError(f"cannot write {self._name}: {describe_os_error(error)}") from None
        return {"bytes": self._bytes, "count": self._count}

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
