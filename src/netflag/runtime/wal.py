"""The journal's bytes on disk: segments of framed records, read back whole or not at all.

A segment ``log/<first seq>.wal`` holds records; each is one header line and
the raw event lines it frames::

    #{"n": 2, "size": 190, ...meta, "crc": 3735928559}\\n
    <line 1>\\n
    <line 2>\\n

``n`` lines, ``size`` bytes, and a CRC-32 over the header as written without
its last member (``crc`` itself) and then over the lines: the meta carries
idempotency keys and live mode's marks, so a changed byte there must be
caught as surely as one in an event. A record torn by a crash is recognised
(:func:`torn`) and cut off; one damaged with whole records after it is
refused. Every file in ``log/`` must be a segment: a renamed one is refused
too, not skipped.
:class:`netflag.runtime.journal.Journal` appends and recovers them;
:func:`read_lines` reads a journal without taking it (``netflag journal``).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from netflag.errors import CheckpointError, InputError
from netflag.io.reader import describe_os_error
from netflag.io.sinks.file import fsync_dir

LOG = "log"
SUFFIX = ".wal"


def durable_replace(path: Path, parts: Sequence[bytes | memoryview]) -> None:
    """Write ``parts`` to ``path`` so a crash leaves the old file or the new one, whole.

    A failed write removes what it wrote: on a full disk, a half-written copy would
    keep the space the log needs."""
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with temp.open("wb") as handle:
            handle.writelines(parts)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        fsync_dir(path.parent)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {describe_os_error(error)}") from None


@dataclass(frozen=True, slots=True)
class Record:
    """One appended group of lines: ``lines[i]`` has sequence number ``first + i``."""

    first: int
    lines: list[bytes]
    meta: dict[str, Any] = field(default_factory=dict)


def read_lines(path: Path, version: str, after: int = 0) -> Iterator[tuple[int, bytes]]:
    """``(seq, line)`` of every event kept in the journal at ``path`` past ``after``,
    read without the lock (a running service may be appending: whole records only)."""
    if not (path / LOG).is_dir():
        raise InputError(f"{path} is not a netflag state directory (no {LOG}/ in it)")
    for first, segment in segments_in(path / LOG):
        try:
            data = segment.read_bytes()
        except FileNotFoundError:
            continue  # dropped by a snapshot meanwhile
        for _, record in records_in(data, first):
            if record is None:
                break
            for number, line in enumerate(record.lines, record.first):
                if number > after:
                    yield number, line


def segments_in(folder: Path) -> list[tuple[int, Path]]:
    """``(first seq, path)`` of each segment, oldest first; anything else there is an error."""
    found = []
    for path in folder.iterdir():
        if path.suffix != SUFFIX or not path.stem.isdigit() or not path.stem.isascii():
            raise CheckpointError(f"{path}: not a log segment (<first seq>{SUFFIX}): move it out")
        found.append((int(path.stem), path))
    return sorted(found)


def records_in(data: bytes, first: int) -> Iterator[tuple[int, Record | None]]:
    """``(offset, record)`` for each whole record of a segment, then ``(offset, None)``
    where a bad one starts (if any): see :func:`torn` for whether it was torn."""
    pos, seq = 0, first
    while pos < len(data):
        end = data.find(b"\n", pos)
        try:
            if data[pos : pos + 1] != b"#" or end < 0:
                raise ValueError
            head = orjson.loads(data[pos + 1 : end])
            crc = int(head.pop("crc"))
            covered = zlib.crc32(orjson.dumps(head))  # the header's bytes before the crc
            n, size = int(head.pop("n")), int(head.pop("size"))
            lengths = head.pop("lengths", None)
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            yield pos, None
            return
        body = data[end + 1 : end + 1 + size]
        lines = body.split(b"\n")[:-1] if lengths is None else _cut(body, lengths)
        if len(body) != size or zlib.crc32(body, covered) != crc or len(lines) != n:
            yield pos, None
            return
        yield pos, Record(seq, lines, head)
        pos, seq = end + 1 + size, seq + n


def torn(data: bytes, offset: int) -> bool:
    """Whether the bad record at ``offset`` is the tail a crash tore (never acknowledged):
    nothing whole follows it. A bad record with another one after it is corruption."""
    rest = data[offset:]
    later = rest.find(b"\n#", 1)
    return later < 0 or not rest[later + 1 :].strip(b"\0")


def frame(lines: Sequence[bytes], meta: dict[str, Any] | None = None) -> bytes:
    """One record: the header line (count, size, CRC-32, ``meta``), then ``lines`` (no endings)."""
    body = b"".join(line + b"\n" for line in lines)
    head: dict[str, Any] = {"n": len(lines), "size": len(body), **(meta or {})}
    if body.count(b"\n") != len(lines):  # a line holds a line break (a Redis entry may)
        head["lengths"] = [len(line) for line in lines]
    head["crc"] = zlib.crc32(body, zlib.crc32(orjson.dumps(head)))
    return b"#" + orjson.dumps(head) + b"\n" + body


def _cut(body: bytes, lengths: list[int]) -> list[bytes]:
    """The lines of a record whose lines hold line breaks: by their lengths."""
    lines, pos = [], 0
    for length in lengths:
        lines.append(body[pos : pos + length])
        pos += length + 1
    return lines
