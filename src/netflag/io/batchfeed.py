"""Batch loading through the compiled core's canonical-line fast path.

The file is memory-mapped and handed to :meth:`Engine.feed` in chunks: the
core applies every line spelt the canonical way (the challenge's and
``netflag generate``'s spelling) without a Python object per line, and stops at
any other line. That line takes the caller's ordinary path (parse, then
``Engine.apply``, or a reject with its line number and reason), and the core
goes on after it. The result is the state a line-by-line load gives, which the
property tests check.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from netflag.errors import InputError
from netflag.io.limits import MAX_ID_CHARS, MAX_LINE_BYTES, too_long
from netflag.io.reader import BOM, describe_os_error

CHUNK = 4 << 20  # bytes fed at a time: the progress bar moves this often


class Feeder(Protocol):
    """What takes a batch's canonical lines: an :class:`~netflag.engine.Engine`, or a shard
    node (:class:`~netflag.distributed.shards.ShardNode`), which keeps its own users'."""

    @property
    def next_seq(self) -> int: ...

    def feed(
        self, data: bytes | mmap.mmap, pos: int, end: int, line: int, *, max_id: int, max_line: int
    ) -> tuple[int, int]: ...


def feed_file(
    engine: Feeder,
    path: Path,
    params_line: int | None,
    ordinary: Callable[[int, bytes], None],
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Apply the batch log at ``path`` (minus its parameters line); returns the events applied.

    ``ordinary(line, raw)`` takes each non-blank line the fast path leaves, in
    order: it applies the line's event to ``engine``, or rejects the line.
    """
    try:
        with path.open("rb") as handle:
            try:
                data: mmap.mmap | bytes = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file cannot be mapped
                data = b""
    except OSError as error:
        raise InputError(f"cannot read {path}: {describe_os_error(error)}") from None
    before = engine.next_seq
    size = len(data)
    pos = len(BOM) if data[: len(BOM)] == BOM else 0
    line = 0
    reported = released = 0
    while pos < size:
        chunk_end = min(size, pos + CHUNK)
        pos, line = engine.feed(
            data, pos, chunk_end, line, max_id=MAX_ID_CHARS, max_line=MAX_LINE_BYTES
        )
        if pos < chunk_end:  # a line the fast path leaves to the ordinary one
            end = data.find(b"\n", pos)
            after = size if end < 0 else end + 1
            # A line over the limit is handed on cut (as io.reader does): the parser rejects it.
            raw = data[pos : min(after, pos + MAX_LINE_BYTES + 2)]
            pos, line = after, line + 1
            if line != params_line and (raw.strip() or too_long(raw)):
                ordinary(line, raw)
        if on_progress is not None:
            on_progress(pos - reported)
        done = pos - pos % mmap.PAGESIZE
        if isinstance(data, mmap.mmap) and done - released >= CHUNK:
            # Pages already applied are not needed again: keep them out of memory.
            data.madvise(mmap.MADV_DONTNEED, released, done - released)
            released = done
        reported = pos
    return engine.next_seq - before
