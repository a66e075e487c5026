"""The messages between shards: numpy arrays, and the sums a check's home shard returns.

A BFS message is ``(2, n)`` int64: the checks' numbers in the epoch and the
users' keys. A gather message is ``(4, n)``: check, timestamp, seq and units
(an object array when units outgrow 64 bits). Both kernels
(:mod:`netflag.engine.shard`, ``_shard.pyx``) send and take these.
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import nlargest

import numpy as np

from netflag.engine.history import order_key

Box = np.ndarray  # one message: its rows as described above


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
