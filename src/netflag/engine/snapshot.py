"""Versioned, checksummed snapshots of :class:`EngineState` that load by mapping, not parsing.

A snapshot is one file: a text head, then the state's columns as raw arrays::

    netflag-snapshot 2 <sha256 of everything after this line, hex>
    {"columns": [...], "extra": {...}, "netflag": "0.1.0", "params": {...}, ...}
    <zero padding to a multiple of 64 bytes of the file>
    <column bytes, each starting on a multiple of 64 bytes of the file>

Line 1 is checked first (magic, then format version), then the checksum, then
the netflag version, so a corrupt, truncated or foreign file is always a clear
:class:`CheckpointError`, never a quietly different engine. The head lists each
column's name, type code (``i`` int32, ``q`` int64, ``json``), offset and
length. Loading maps the file and hands the engine zero-copy views of it
(:func:`load_file`); the engine's own load checks the columns' content. One
state always gives the same bytes.

User ids are one JSON list (a column of type ``json``); so are amounts in the
rare state whose units do not fit 64 bits.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netflag.engine.params import Params
from netflag.engine.pycore import INT64_MAX, as_ints
from netflag.engine.state import EngineState
from netflag.errors import CheckpointError, ParamsError

MAGIC = "netflag-snapshot"
FORMAT = 2
ALIGN = 64
FIRST_LINE = len(MAGIC) + len(f" {FORMAT} ") + 64 + 1  # magic, format, sha256 in hex, newline
# (column, type code) in file order; units fall back to "json" beyond int64.
COLUMNS = (
    ("users", "json"),
    ("edge_lo", "i"),
    ("edge_hi", "i"),
    ("ts", "q"),
    ("seq", "q"),
    ("owner", "i"),
    ("units", "q"),
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A loaded snapshot: the engine state and the caller's ``extra`` metadata."""

    state: EngineState
    extra: dict[str, Any]


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _column_bytes(values: Sequence[int], code: str) -> memoryview | bytes:
    """The column's bytes in native order: no copy for a contiguous array of the right type."""
    size = 4 if code == "i" else 8
    try:
        view = memoryview(values)  # type: ignore[arg-type]  # arrays and numpy arrays
    except TypeError:
        view = None
    if (
        view is not None
        and view.c_contiguous
        and view.itemsize == size
        and view.format.lstrip("@=<") in ("i", "l", "q")
    ):
        return view.cast("B")
    return array(code, as_ints(values)).tobytes()


def dump_parts(
    state: EngineState, *, version: str, extra: Mapping[str, Any] | None = None
) -> list[bytes | memoryview]:
    """The snapshot of ``state`` as a list of byte chunks (write them in order).

    ``extra`` (JSON data) rides along under the same checksum: live mode keeps
    its source and sink positions there, so they can never disagree with the state.
    """
    units_code = "q" if _fits(state.units) else "json"
    bodies: list[tuple[str, str, bytes | memoryview]] = []
    for name, code in COLUMNS:
        code = units_code if name == "units" else code
        values = getattr(state, name)
        body = _json(list(values)) if code == "json" else _column_bytes(values, code)
        bodies.append((name, code, body))
    params = state.params
    described = []
    offset = 0
    for name, code, body in bodies:
        described.append({"name": name, "type": code, "offset": offset, "bytes": len(body)})
        offset += _padded(len(body))
    head = _json({
        "byteorder": sys.byteorder,
        "columns": described,
        "extra": dict(extra or {}),
        "netflag": version,
        "next_seq": state.next_seq,
        "params": params.to_json(),
        "scale": state.scale,
    }) + b"\n"  # fmt: skip
    # Line 1 has a fixed length, so the columns can start on multiples of 64 bytes
    # of the file itself (and of its map): every int64 column is aligned.
    before = FIRST_LINE + len(head)
    parts: list[bytes | memoryview] = [head, bytes(_padded(before) - before)]
    for _, _, body in bodies:
        parts += [body, bytes(_padded(len(body)) - len(body))]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    first = f"{MAGIC} {FORMAT} {digest.hexdigest()}\n".encode()
    assert len(first) == FIRST_LINE  # noqa: S101 - the layout above depends on it
    return [first, *parts]


def _fits(units: Sequence[int]) -> bool:
    """Whether every amount fits an int64 (an int64 array always does)."""
    try:
        return memoryview(units).itemsize == 8  # type: ignore[arg-type]
    except TypeError:
        return max(as_ints(units), default=0) <= INT64_MAX


def _padded(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


def dump(state: EngineState, *, version: str, extra: Mapping[str, Any] | None = None) -> bytes:
    """The snapshot bytes of ``state``, written by netflag ``version``."""
    return b"".join(dump_parts(state, version=version, extra=extra))


def load_file(path: Path, *, version: str) -> Snapshot:
    """Map the snapshot at ``path`` and check it; the state's columns are views of the map."""
    with path.open("rb") as handle:
        try:
            mapped: memoryview | bytes = memoryview(
                mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            )
        except ValueError:  # an empty file cannot be mapped
            mapped = b""
    return load(mapped, version=version, where=str(path))


def load(data: bytes | memoryview, *, version: str, where: str = "snapshot") -> Snapshot:
    """Check and read snapshot bytes; any doubt raises :class:`CheckpointError`.

    ``version`` is the running netflag's: a snapshot from another version is
    refused, because its engine may have decided differently.
    """
    view = memoryview(data)
    end = bytes(view[:200]).find(b"\n")
    fields = bytes(view[: max(end, 0)]).split(b" ")
    if end < 0 or len(fields) != 3 or fields[0] != MAGIC.encode():
        raise CheckpointError(f"{where}: not a netflag snapshot (bad first line)")
    if fields[1] != str(FORMAT).encode():
        shown = fields[1].decode("ascii", "replace")
        raise CheckpointError(
            f"{where}: snapshot format {shown} is not supported"
            f" (this netflag reads format {FORMAT}): remove the state directory to start over"
        )
    rest = view[end + 1 :]
    if hashlib.sha256(rest).hexdigest().encode() != fields[2]:
        raise CheckpointError(f"{where}: snapshot is corrupt or truncated (checksum mismatch)")
    head_end = bytes(rest[: 1 << 20]).find(b"\n")
    try:
        header = json.loads(bytes(rest[:head_end]))
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise CheckpointError(f"{where}: snapshot is malformed") from None
    if head_end < 0 or not isinstance(header, dict):
        raise CheckpointError(f"{where}: snapshot is malformed")
    if header.get("netflag") != version:
        raise CheckpointError(
            f"{where}: snapshot was written by netflag {header.get('netflag')}, this is {version}:"
            " start again from the batch log (remove the state directory) or use that version"
        )
    try:
        start = _padded(end + 1 + head_end + 1) - (end + 1)  # the columns, aligned in the file
        state = _state(header, rest[start:])
        extra = header["extra"]
        if not isinstance(extra, dict):
            raise TypeError("extra is not an object")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, ParamsError) as error:
        raise CheckpointError(f"{where}: snapshot content is invalid ({error})") from None
    except RecursionError:
        raise CheckpointError(f"{where}: snapshot content is invalid (nested too deep)") from None
    return Snapshot(state, extra)


def _state(header: dict[str, Any], body: memoryview) -> EngineState:
    if header["byteorder"] != sys.byteorder:
        raise ValueError(f"written on a {header['byteorder']}-endian machine")
    params = Params.from_json(header["params"])
    columns: dict[str, Any] = {}
    wanted = dict(COLUMNS)
    for column in header["columns"]:
        name, code, offset, size = (column[k] for k in ("name", "type", "offset", "bytes"))
        if name not in wanted or code not in (wanted[name], "json") or offset + size > len(body):
            raise ValueError(f"column {name!r} is not as expected")
        if type(offset) is not int or type(size) is not int or min(offset, size) < 0:
            raise ValueError(f"column {name!r} has no place in the file")
        # The writer aligns every column; a misaligned one would have the compiled core
        # read int64s at odd addresses (undefined behaviour in C++, found by fuzzing).
        if offset % ALIGN:
            raise ValueError(f"column {name!r} is not aligned to {ALIGN} bytes")
        chunk = body[offset : offset + size]
        columns[name] = json.loads(bytes(chunk)) if code == "json" else chunk.cast(code)
    users = columns["users"]
    if not isinstance(users, list) or not all(type(u) is str and u for u in users):
        raise ValueError("users must be non-empty strings")
    scale, next_seq = header["scale"], header["next_seq"]
    if type(scale) is not int or type(next_seq) is not int or scale < 0 or next_seq < 0:
        raise ValueError("scale or next_seq is not a non-negative integer")
    return EngineState(
        params, users, columns["edge_lo"], columns["edge_hi"], columns["ts"], columns["seq"],
        columns["owner"], columns["units"], scale, next_seq,
    )  # fmt: skip
