"""Physical lines of a log file: numbered from 1, blank lines skipped, BOM dropped.

Lines are read with a bounded ``readline``: a line over the limit of
:mod:`netflag.io.limits` is never held whole, only its head, which the parser
then rejects like any other bad line.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from netflag.errors import InputError
from netflag.io.limits import MAX_LINE_BYTES, too_long

BOM = b"\xef\xbb\xbf"
CHUNK = 1 << 16  # how much of a line over the limit is read at a time, to skip it


def read_once(path: Path) -> bool:
    """True for a pipe (``<(cat log)``), a FIFO or a device: it can be read only once,
    not mapped, and has no size. False for a path that cannot be looked at: opening
    it then says what is wrong, in one line."""
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def describe_os_error(error: OSError) -> str:
    """``[Errno 2] No such file or directory: 'x'`` -> ``No such file or directory``."""
    return error.strerror or str(error)


def numbered_lines(
    path: Path,
    on_bytes: Callable[[int], None] | None = None,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, raw_line)`` for every non-blank line of ``path``.

    Line numbers count every physical line (blank ones too), so a reported
    ``FILE:LINE`` is where an editor shows it. ``on_bytes`` hears how many bytes
    each yielded line (and the blank lines before it) took, for progress bars.
    A line over ``max_line_bytes`` (its ending not counted) comes out cut to its
    first ``max_line_bytes + 2`` bytes, still over the limit, whatever it holds.
    """
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputError(f"cannot read {path}: {describe_os_error(error)}") from None
    with handle:
        try:
            yield from _numbered(handle, on_bytes, max_line_bytes)
        except OSError as error:
            raise InputError(f"cannot read {path}: {describe_os_error(error)}") from None


def _numbered(
    handle: BinaryIO, on_bytes: Callable[[int], None] | None, limit: int
) -> Iterator[tuple[int, bytes]]:
    read = handle.readline
    cut = limit + 2  # a line at the limit with its CRLF
    size = cut + len(BOM)  # what one read may take: the longest line kept whole, and a BOM
    number = pending = 0
    while line := read(size):
        number += 1
        unended = len(line) == size and not line.endswith(b"\n")
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        pending += len(line)
        if unended:  # over the limit: the rest of it is skipped, not read whole
            pending += _skip_line(read)
        if len(line) > limit and too_long(line, limit):
            line = line[:cut]
        elif not line.strip():
            continue
        if on_bytes is not None:
            on_bytes(pending)
        pending = 0
        yield number, line


def _skip_line(read: Callable[[int], bytes]) -> int:
    """Read past the rest of a line, to its newline or the end; returns its size."""
    skipped = 0
    while chunk := read(CHUNK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped
