"""Recent purchases: each user's last T, and one global index by recency.

A purchase is identified by its *order key* ``timestamp << SEQ_BITS | seq``: an
int that sorts by timestamp, then by arrival. Only a user's last T purchases
can ever be in a baseline (T newer ones of the same user always come first),
so older ones are dropped.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Iterator
from heapq import heapify, heappop, heappush

from sortedcontainers import SortedList

SEQ_BITS = 48  # room for 2.8e14 events per run


def order_key(timestamp: int, seq: int) -> int:
    """Sort key of a purchase: by timestamp, then by arrival sequence number."""
    return timestamp << SEQ_BITS | seq


class History:
    """Per-user tails (ascending lists of ``(key, units)``) plus a global index.

    The global index (keys in a SortedList, owner and units in a dict) is built
    lazily on the first walk, so loading a large batch log costs one sort
    rather than a tree insertion per purchase.
    """

    __slots__ = ("T", "tails", "_index", "_owner")

    def __init__(self, T: int) -> None:
        self.T = T
        self.tails: list[list[tuple[int, int]]] = []
        self._index: SortedList | None = None
        self._owner: dict[int, tuple[int, int]] = {}

    def grow(self, users: int) -> None:
        while len(self.tails) < users:
            self.tails.append([])

    def add(self, user: int, key: int, units: int) -> None:
        """Record a purchase; evict the user's oldest when more than T are kept."""
        tail = self.tails[user]
        entry = (key, units)
        if not tail or key > tail[-1][0]:
            tail.append(entry)
        else:
            insort(tail, entry)
        evicted = tail.pop(0) if len(tail) > self.T else None
        if self._index is None:
            return
        if evicted is not None and evicted[0] == key:
            return  # the new purchase itself is too old to matter
        self._index.add(key)
        self._owner[key] = (user, units)
        if evicted is not None:
            self._index.remove(evicted[0])
            del self._owner[evicted[0]]

    def rescale(self, factor: int) -> None:
        """Multiply every stored amount by ``factor`` (a finer decimal scale arrived)."""
        self.tails = [[(key, units * factor) for key, units in tail] for tail in self.tails]
        self._owner = {key: (user, units * factor) for key, (user, units) in self._owner.items()}

    def newest_first(self) -> Iterator[tuple[int, int]]:
        """All kept purchases as ``(user, units)``, most recent first."""
        index = self._index if self._index is not None else self._build_index()
        owner = self._owner
        return (owner[key] for key in reversed(index))

    def last_of(self, members: Iterable[int], count: int) -> list[int]:
        """Amounts of the ``count`` most recent purchases made by ``members``.

        A heap over the members' tails: O(|members| + count * log |members|).
        """
        tails = self.tails
        heap = [(-tails[m][-1][0], m, len(tails[m]) - 1) for m in members if tails[m]]
        heapify(heap)
        out: list[int] = []
        while heap and len(out) < count:
            _, m, i = heappop(heap)
            out.append(tails[m][i][1])
            if i:
                heappush(heap, (-tails[m][i - 1][0], m, i - 1))
        return out

    def _build_index(self) -> SortedList:
        self._owner = {
            key: (user, units) for user, tail in enumerate(self.tails) for key, units in tail
        }
        self._index = SortedList(self._owner)
        return self._index
