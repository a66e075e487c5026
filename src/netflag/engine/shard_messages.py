"""The messages of partitioned state: numpy arrays, and the sums a check's home shard returns.

A BFS message is ``(2, n)`` int64: the checks' numbers in the epoch and the
users' keys. A gather message is ``(4, n)``: check, timestamp, seq and units
(an object array when units outgrow 64 bits). An epoch's writes to a shard
are :func:`pack`'s three arrays. Both kernels (:mod:`netflag.engine.shard`,
``_shard.pyx``) send and take these.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from heapq import nlargest

import numpy as np

from netflag.engine.history import order_key

Box = np.ndarray  # one message: its rows as described above
# A write: (0, seq, key, name, timestamp, units) for a purchase,
# (1, seq, key, name, friend key, 1 or 0) for one side of a befriend or unfriend.
Write = tuple[int, int, int, str, int, int]
Writes = tuple[Box, np.ndarray, np.ndarray]  # pack(): rows, names' UTF-8, their ends


def box(rows: Sequence[Sequence[int]], width: int) -> Box:
    """Rows of ints as one message array, int64 when every value fits."""
    if not rows:
        return np.empty((width, 0), dtype=np.int64)
    try:
        return np.array(rows, dtype=np.int64).T.copy()
    except OverflowError:
        return np.array(rows, dtype=object).T.copy()


def sums_of(inboxes: Sequence[Box], T: int) -> list[tuple[int, int, int, int]]:
    """``(check, n, S1, S2)`` of each check whose T newest gathered purchases number at least
    two: the exact sums the flag rule needs. (The compiled shard's, too, when a message
    carries amounts past 64 bits.)"""
    found: dict[int, list[tuple[int, int]]] = {}
    for message in inboxes:
        for check, ts, seq, units in zip(*(row.tolist() for row in message), strict=True):
            found.setdefault(check, []).append((order_key(ts, seq), units))
    sums = []
    for check in sorted(found):
        units = [u for _, u in nlargest(T, found[check])]
        if len(units) >= 2:
            sums.append((check, len(units), sum(units), sum(u * u for u in units)))
    return sums


def pack(writes: Sequence[Write]) -> Writes:
    """Writes as arrays: ``(5, n)`` rows of kind, seq, key and the two values (an object
    array when units outgrow 64 bits), the names' UTF-8 end to end, and where each ends."""
    names = [write[3].encode("utf-8", "surrogatepass") for write in writes]
    rows = box([(kind, seq, key, one, two) for kind, seq, key, _, one, two in writes], 5)
    ends = np.cumsum([len(name) for name in names], dtype=np.int64)
    return rows, np.frombuffer(b"".join(names), dtype=np.uint8), ends


def unpack(rows: Box, names: np.ndarray, ends: np.ndarray) -> Iterator[Write]:
    """The writes :func:`pack` laid out, in order."""
    blob, start = names.tobytes(), 0
    for (kind, seq, key, one, two), end in zip(
        zip(*(row.tolist() for row in rows), strict=True), ends.tolist(), strict=True
    ):
        yield kind, seq, key, blob[start:end].decode("utf-8", "surrogatepass"), one, two
        start = end
