"""Follow a growing log file like ``tail -F`` (rotation and truncation included), or stdin.

A position is ``{"inode", "offset", "line"}``: the file's inode, the byte
offset just after the line and its physical line number, so a restart seeks to
the exact byte. A line counts only once its ``\\n`` has arrived: a writer may be
half-way through it. Lines follow the SPEC's rules: a BOM at the start of a file
is dropped, blank lines are skipped (but still numbered). A line over the limit
of :mod:`netflag.io.limits` is handed on cut, as replay's reader does, and only
its head is ever buffered.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import time
from pathlib import Path
from typing import BinaryIO

from netflag.errors import InputError
from netflag.io.limits import MAX_LINE_BYTES, too_long
from netflag.io.output import rejection_record
from netflag.io.reader import BOM, describe_os_error
from netflag.io.sources.base import Lag, Line, Position, line_and_byte

log = logging.getLogger("netflag.live")
CHUNK = 1 << 16
IDLE_SLEEP = 0.05  # how often a followed file is checked for growth or rotation


class _Lines:
    """Splits bytes into numbered lines, tracking the offset just after each one.

    A line over ``max_line_bytes`` comes out cut to its first ``max_line_bytes +
    2`` bytes, like :func:`netflag.io.reader.numbered_lines`; until its newline
    arrives only that head is kept, so the buffer never holds much more.
    """

    def __init__(
        self, offset: int = 0, line: int = 0, max_line_bytes: int = MAX_LINE_BYTES
    ) -> None:
        self.offset = offset
        self.line = line
        self.buffer = b""
        self._limit = max_line_bytes
        self._keep = max_line_bytes + 2 + len(BOM)  # the most of one line worth buffering
        self._head: bytes | None = None  # the start of a line over the limit, still unended
        self._skipped = 0  # that line's bytes dropped after its head

    def take(self, limit: int, *, final: bool = False) -> list[tuple[int, int, bytes]]:
        """Complete lines as ``(line, end_offset, raw)``; with ``final`` a last unended one too."""
        out: list[tuple[int, int, bytes]] = []
        buffer, start = self.buffer, 0
        while len(out) < limit:
            end = buffer.find(b"\n", start) + 1
            if not end:
                if not final or (start == len(buffer) and self._head is None):
                    break
                end = len(buffer)
            raw, size = self._complete(buffer[start:end])
            if self.offset == 0 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            self.offset += size
            self.line += 1
            start = end
            if len(raw) > self._limit and too_long(raw, self._limit):
                out.append((self.line, self.offset, raw[: self._limit + 2]))
            elif raw.strip():
                out.append((self.line, self.offset, raw))
        self.buffer = self._hold(buffer[start:])
        return out

    def _complete(self, tail: bytes) -> tuple[bytes, int]:
        """A line ending with ``tail``: its bytes (the head, if it was cut) and its full size."""
        if self._head is None:
            return tail, len(tail)
        head, size = self._head, len(self._head) + self._skipped + len(tail)
        self._head, self._skipped = None, 0
        return head, size

    def _hold(self, rest: bytes) -> bytes:
        """What stays buffered of ``rest``: all of it, unless it is an unended line too long."""
        if b"\n" in rest:  # complete lines left for the next take
            return rest
        if self._head is not None:  # more of a line already cut: count it, drop it
            self._skipped += len(rest)
            return b""
        if len(rest) > self._keep:
            self._head, self._skipped = rest[: self._keep], len(rest) - self._keep
            return b""
        return rest


class FileSource:
    """``file:PATH``: follows PATH across growth, rotation (rename + new file) and truncation."""

    def __init__(self, path: str) -> None:
        self.url = f"file:{path}"
        self.finished = False
        self._name = path
        self._path = Path(path)
        self._handle: BinaryIO | None = None
        self._inode = 0
        self._lines = _Lines()
        self._resume_at: Position | None = None
        self._waiting_logged = False

    def resume(self, position: Position | None, run: str | None = None) -> None:
        self._resume_at = position
        self._open()

    def _open(self) -> None:
        try:
            handle = self._path.open("rb")
        except FileNotFoundError:
            if not self._waiting_logged:
                log.warning("%s does not exist yet: waiting for it", self._name)
                self._waiting_logged = True
            return
        except OSError as error:
            raise InputError(f"cannot read {self._name}: {describe_os_error(error)}") from None
        stat = os.fstat(handle.fileno())
        self._handle, self._inode, self._lines = handle, stat.st_ino, _Lines()
        at, self._resume_at = self._resume_at, None
        if at is None:
            return
        offset = int(at["offset"])
        if int(at["inode"]) == stat.st_ino and stat.st_size >= offset:
            handle.seek(offset)
            self._lines = _Lines(offset, int(at["line"]))
        else:
            log.warning(
                "%s was rotated or truncated while netflag was stopped: reading the new file"
                " from its start (lines added to the old file after the checkpoint are not read)",
                self._name,
            )

    def poll(self, timeout: float, limit: int) -> list[Line]:
        deadline = time.monotonic() + timeout
        while True:
            if self._handle is None:
                self._open()
            if self._handle is not None:
                lines = self._lines.take(limit)
                if not lines:
                    lines = self._read_more(self._handle, limit)
                if lines:
                    inode = self._inode
                    return [({"inode": inode, "offset": o, "line": n}, raw) for n, o, raw in lines]
            if time.monotonic() >= deadline:
                return []
            time.sleep(min(IDLE_SLEEP, max(0.0, deadline - time.monotonic())))

    def _read_more(self, handle: BinaryIO, limit: int) -> list[tuple[int, int, bytes]]:
        # Read on while the file has bytes and no line is complete: a long line must
        # not cost an idle sleep per chunk.
        while data := handle.read(CHUNK):
            self._lines.buffer += data
            lines = self._lines.take(limit)
            if lines:
                return lines
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return []  # renamed away, the new file is not there yet: keep the old one
        if stat.st_ino != self._inode:
            # Rotated: the old file is complete, so an unended last line is a line.
            last = self._lines.take(limit, final=True)
            if not last:
                log.info("%s was rotated: following the new file", self._name)
                handle.close()
                self._handle = None
            return last
        if stat.st_size < handle.tell():
            log.warning("%s was truncated: reading it again from its start", self._name)
            handle.seek(0)
            self._lines = _Lines()
        return []

    def commit(self, position: Position) -> None:
        """Nothing to acknowledge: the checkpoint's offset is the whole record."""

    def describe(self, position: Position) -> str:
        return f"{self._name}:{position['line']}"

    def reject_record(self, position: Position, reason: str, raw: bytes) -> bytes:
        return rejection_record(self._name, int(position["line"]), reason, raw)

    def position_text(self, position: Position | None) -> str:
        return line_and_byte(position)

    def lag(self) -> Lag | None:
        try:
            size = self._path.stat().st_size
        except OSError:
            return None
        return Lag(max(0, size - self._lines.offset), "bytes")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class StdinSource:
    """``-``: standard input until it ends; a restart skips the bytes the checkpoint covers."""

    def __init__(self) -> None:
        self.url = "-"
        self.finished = False
        self._fd = -1  # read from sys.stdin at resume(), so tests can swap it
        self._lines = _Lines()
        self._skip = 0

    def resume(self, position: Position | None, run: str | None = None) -> None:
        self._fd = sys.stdin.fileno()
        if position is not None:
            self._skip = int(position["offset"])
            self._lines = _Lines(self._skip, int(position["line"]))

    def poll(self, timeout: float, limit: int) -> list[Line]:
        lines = self._lines.take(limit, final=self.finished)
        if not lines and not self.finished:
            ready, _, _ = select.select([self._fd], [], [], timeout)
            if ready:
                data = os.read(self._fd, CHUNK)
                if self._skip:
                    dropped = min(self._skip, len(data))
                    data, self._skip = data[dropped:], self._skip - dropped
                    if not data and dropped:
                        return []
                self._lines.buffer += data
                self.finished = not data
                lines = self._lines.take(limit, final=self.finished)
        return [({"offset": o, "line": n}, raw) for n, o, raw in lines]

    def commit(self, position: Position) -> None:
        """Standard input cannot be acknowledged."""

    def describe(self, position: Position) -> str:
        return f"<stdin>:{position['line']}"

    def reject_record(self, position: Position, reason: str, raw: bytes) -> bytes:
        return rejection_record("<stdin>", int(position["line"]), reason, raw)

    def position_text(self, position: Position | None) -> str:
        return line_and_byte(position)

    def lag(self) -> Lag | None:
        return None

    def close(self) -> None:
        pass
