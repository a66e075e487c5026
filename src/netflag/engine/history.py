"""Recent purchases: each user's last T, and one global index by recency.

Part of the pure-Python core (:mod:`netflag.engine.pycore`); the compiled core
keeps the same two structures as arrays of plain structs (docs/design.md).

A purchase is the tuple ``(key, user, units)``. Its *order key*
``timestamp << SEQ_BITS | seq`` is an int that sorts by timestamp, then by
arrival. Only a user's last T purchases can ever be in a baseline (T newer ones
of the same user always come first), so older ones are dropped. The same tuple
objects live in the per-user tails and in the global index, so keeping both
costs pointers, not copies.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Iterator
from heapq import heapify, heappop, heappush, nlargest
from itertools import compress, islice
from operator import itemgetter

from sortedcontainers import SortedList

SEQ_BITS = 48  # room for 2.8e14 events per run
SEQ_LIMIT = 1 << SEQ_BITS  # every sequence number is below it

Entry = tuple[int, int, int]  # (key, user, units)
_OWNER = itemgetter(1)


def order_key(timestamp: int, seq: int) -> int:
    """Sort key of a purchase: by timestamp, then by arrival sequence number."""
    return timestamp << SEQ_BITS | seq


class History:
    """Per-user tails (ascending lists of entries) plus a global index by key.

    The global index (a SortedList of entries) is built on the first walk:
    until then purchases are only appended to a log in arrival order, which is
    nearly sorted already, so loading a batch log costs one cheap sort instead
    of a tree insertion per purchase.
    """

    __slots__ = ("T", "tails", "newest", "_index", "_arrivals", "_evicted")

    def __init__(self, T: int) -> None:
        self.T = T
        self.tails: list[list[Entry]] = []
        self.newest: list[int] = []  # each user's newest key, -1 when none
        self._index: SortedList | None = None
        self._arrivals: list[Entry] = []
        self._evicted: set[int] = set()

    def grow(self, users: int) -> None:
        while len(self.tails) < users:
            self.tails.append([])
            self.newest.append(-1)

    def add(self, user: int, key: int, units: int) -> None:
        """Record a purchase; evict the user's oldest when more than T are kept."""
        tail = self.tails[user]
        entry = (key, user, units)
        if not tail or key > tail[-1][0]:
            tail.append(entry)
            self.newest[user] = key
        else:
            insort(tail, entry)
        evicted = tail.pop(0) if len(tail) > self.T else None
        index = self._index
        if index is None:
            self._arrivals.append(entry)
            if evicted is not None:
                self._evicted.add(evicted[0])
        elif evicted is not entry:
            index.add(entry)
            if evicted is not None:
                index.remove(evicted)

    def load(self, entries: Iterable[Entry]) -> None:
        """Fill an empty history from each user's last T entries, sorted by key."""
        tails = self.tails
        kept = list(entries)
        for entry in kept:
            tails[entry[1]].append(entry)
        self.newest = [tail[-1][0] if tail else -1 for tail in tails]
        self._index = SortedList(kept)

    def entries(self) -> list[Entry]:
        """Every kept purchase, sorted by key."""
        return list(self._index if self._index is not None else self._build_index())

    def rescale(self, factor: int) -> None:
        """Multiply every stored amount by ``factor`` (a finer decimal scale arrived)."""
        fresh: dict[int, Entry] = {}
        for tail in self.tails:
            for i, (key, user, units) in enumerate(tail):
                tail[i] = fresh[key] = (key, user, units * factor)
        self._arrivals = [fresh.get(e[0], e) for e in self._arrivals]
        if self._index is not None:
            self._index = SortedList(fresh.values())

    def newest_first(self) -> Iterator[Entry]:
        """All kept purchases, most recent first."""
        index = self._index if self._index is not None else self._build_index()
        newest: Iterator[Entry] = reversed(index)
        return newest

    def last_in(self, members: set[int], count: int) -> list[int]:
        """Amounts of the ``count`` most recent purchases made by ``members``, by scanning.

        The newest-first scan runs in C (``compress`` over a membership map),
        so a step costs tens of nanoseconds: the way to go when the members
        are a sizeable share of all buyers but too many to merge.
        """
        index = self._index if self._index is not None else self._build_index()
        owners = map(_OWNER, reversed(index))
        hits = compress(reversed(index), map(members.__contains__, owners))
        return [entry[2] for entry in islice(hits, count)]

    def last_of(self, members: Iterable[int], count: int) -> list[int]:
        """Amounts of the ``count`` most recent purchases made by ``members``."""
        return [entry[2] for entry in self.newest_of(members, count)]

    def newest_of(self, members: Iterable[int], count: int) -> list[Entry]:
        """The ``count`` most recent purchases made by ``members``, newest first.

        Only members whose newest purchase is among the ``count`` newest such
        can contribute (otherwise ``count`` newer purchases exist), so a C-level
        ``nlargest`` picks them and a heap merges just their tails:
        O(|members|) in C plus O(count log count) in Python.
        """
        tails = self.tails
        candidates = nlargest(count, members, key=self.newest.__getitem__)
        heap = [(-tail[-1][0], len(tail) - 1, m) for m in candidates if (tail := tails[m])]
        heapify(heap)
        out: list[Entry] = []
        while heap and len(out) < count:
            _, i, m = heappop(heap)
            out.append(tails[m][i])
            if i:
                heappush(heap, (-tails[m][i - 1][0], i - 1, m))
        return out

    def _build_index(self) -> SortedList:
        evicted = self._evicted
        kept = [e for e in self._arrivals if e[0] not in evicted] if evicted else self._arrivals
        self._index = SortedList(kept)
        self._arrivals = []
        self._evicted = set()
        return self._index
