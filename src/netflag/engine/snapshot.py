"""Versioned, deterministic snapshots of :class:`EngineState`, for checkpoints.

A snapshot is three lines of bytes::

    netflag-snapshot 1 <sha256 of lines 2 and 3, hex>
    {"extra": {...}, "netflag": "0.1.0", "params": {"D": 3, "T": 50, "k": "3"}, ...}
    {"edges": [a, b, a, b, ...], "purchases": [x, y, z, x, y, z, ...], "users": [...]}

Line 1 is checked first (magic, then format version), then the checksum, then
the netflag version, so a corrupt, truncated or foreign file is always a clear
:class:`CheckpointError`, never a quietly different engine. Keys are sorted and
separators fixed, so one state always gives the same bytes. ``k`` is kept as an
exact fraction (``"5/2"``); integers are JSON integers of any size. ``edges``
and ``purchases`` are :class:`EngineState`'s tuples, flattened, in its order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from netflag.engine.params import Params
from netflag.engine.state import EngineState
from netflag.errors import CheckpointError, ParamsError

MAGIC = "netflag-snapshot"
FORMAT = 1


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A loaded snapshot: the engine state and the caller's ``extra`` metadata."""

    state: EngineState
    extra: dict[str, Any]


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def dump(state: EngineState, *, version: str, extra: Mapping[str, Any] | None = None) -> bytes:
    """The snapshot bytes of ``state``, written by netflag ``version``.

    ``extra`` (JSON data) rides along under the same checksum: live mode keeps
    its source and sink positions there, so they can never disagree with the state.
    """
    params = state.params
    header = {
        "extra": dict(extra or {}),
        "netflag": version,
        "params": {"D": params.D, "T": params.T, "k": str(params.k)},
        "scale": state.scale,
        "seq": state.seq,
        "sizes": [len(state.users), len(state.edges), len(state.purchases)],
    }
    body = {
        "edges": [x for edge in state.edges for x in edge],
        "purchases": [x for purchase in state.purchases for x in purchase],
        "users": list(state.users),
    }
    rest = _json(header) + b"\n" + _json(body) + b"\n"
    return f"{MAGIC} {FORMAT} {hashlib.sha256(rest).hexdigest()}\n".encode() + rest


def load(data: bytes, *, version: str, where: str = "snapshot") -> Snapshot:
    """Check and parse snapshot bytes; any doubt raises :class:`CheckpointError`.

    ``version`` is the running netflag's: a snapshot from another version is
    refused, because its engine may have decided differently.
    """
    first, _, rest = data.partition(b"\n")
    fields = first.split(b" ")
    if len(fields) != 3 or fields[0] != MAGIC.encode():
        raise CheckpointError(f"{where}: not a netflag snapshot (bad first line)")
    if fields[1] != str(FORMAT).encode():
        shown = fields[1].decode("ascii", "replace")
        raise CheckpointError(
            f"{where}: snapshot format {shown} is not supported"
            f" (this netflag reads format {FORMAT})"
        )
    if hashlib.sha256(rest).hexdigest().encode() != fields[2]:
        raise CheckpointError(f"{where}: snapshot is corrupt or truncated (checksum mismatch)")
    try:
        head_line, body_line, tail = rest.split(b"\n")
        header = json.loads(head_line)
        body = json.loads(body_line)
    except ValueError:
        raise CheckpointError(f"{where}: snapshot is malformed") from None
    if tail or not isinstance(header, dict) or not isinstance(body, dict):
        raise CheckpointError(f"{where}: snapshot is malformed")
    if header.get("netflag") != version:
        raise CheckpointError(
            f"{where}: snapshot was written by netflag {header.get('netflag')}, this is {version}:"
            " start again from the batch log (remove the state directory) or use that version"
        )
    try:
        state = _state(header, body)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, ParamsError) as error:
        raise CheckpointError(f"{where}: snapshot content is invalid ({error})") from None
    return Snapshot(state, header["extra"])


def _ints(values: object, width: int) -> list[tuple[int, ...]]:
    if not isinstance(values, list) or len(values) % width:
        raise ValueError("a flat list has the wrong length")
    if not all(type(v) is int and v >= 0 for v in values):
        raise ValueError("expected non-negative integers")
    return [tuple(values[i : i + width]) for i in range(0, len(values), width)]


def _state(header: dict[str, Any], body: dict[str, Any]) -> EngineState:
    raw = header["params"]
    params = Params(int(raw["D"]), int(raw["T"]), Fraction(str(raw["k"])))
    users = body["users"]
    if not isinstance(users, list) or not all(type(u) is str and u for u in users):
        raise ValueError("users must be non-empty strings")
    edges = [(a, b) for a, b in _ints(body["edges"], 2)]
    purchases = [(x, y, z) for x, y, z in _ints(body["purchases"], 3)]
    if any(a >= b or b >= len(users) for a, b in edges):
        raise ValueError("an edge names an unknown user")
    sizes = [len(users), len(edges), len(purchases)]
    scale, seq = header["scale"], header["seq"]
    if header["sizes"] != sizes or type(scale) is not int or type(seq) is not int:
        raise ValueError("sizes, scale or seq do not match")
    return EngineState(params, tuple(users), tuple(edges), tuple(purchases), scale, seq)
