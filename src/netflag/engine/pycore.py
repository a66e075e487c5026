"""The pure-Python twin of the compiled core (``_core.pyx``): same names, same results.

:class:`Core` keeps the friend graph as sets and the purchases as tuples
(:mod:`netflag.engine.graph`, :mod:`netflag.engine.history`). It runs when the
compiled core is not built or ``NETFLAG_PUREPYTHON`` is set, and for amounts
too large for the compiled core's 64-bit units (it has no limit: Python ints).

Here, as in ``_core.pyx``: the state and every public method. Their kernels
live beside it, twins of the compiled core's included files:
:mod:`netflag.engine.search` (the network search and the baseline: merge, scan
or walk, with its cache of radius-2 balls) and :mod:`netflag.engine.recommend`
(mutual friends, suggestions).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from mmap import mmap

from netflag.engine import recommend
from netflag.engine.graph import Graph
from netflag.engine.history import SEQ_BITS, SEQ_LIMIT, History, order_key
from netflag.engine.ids import id_order
from netflag.engine.search import Search

STRATEGIES = ("auto", "merge", "scan", "walk")
PATHS = ("merge", "scan", "walk")
INT64_MAX = (1 << 63) - 1
_LOW = (1 << SEQ_BITS) - 1


def _pair(a: int, b: int) -> None:
    if a == b:
        raise ValueError("a user cannot befriend themselves")


def as_ints(column: Sequence[int]) -> list[int]:
    """A column (list, array.array or numpy array) as Python ints."""
    tolist = getattr(column, "tolist", None)
    return list(column) if tolist is None else list(tolist())


class Core:
    """Friend graph + each user's last T purchases + the check kernels, in Python."""

    def __init__(self, D: int, T: int) -> None:
        if D < 1 or T < 2:
            raise ValueError("D must be >= 1 and T >= 2")
        self.D, self.T = D, T
        self.max_units = 0
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._graph = Graph()
        self._history = History(T)
        self._search = Search(D, T, self._names, self._graph, self._history)

    # -- users and friendships ------------------------------------------------

    @property
    def users(self) -> int:
        return len(self._names)

    def intern(self, name: str) -> int:
        """The number of user ``name``, given the next free one if it is new."""
        number = self._ids.get(name)
        if number is None:
            number = self._ids[name] = len(self._names)
            self._names.append(name)
            self._graph.grow(number + 1)
            self._history.grow(number + 1)
        return number

    def number(self, name: str) -> int | None:
        """The number of user ``name``, None if never seen."""
        return self._ids.get(name)

    def name(self, number: int) -> str:
        """The user id behind a number."""
        return self._names[number]

    def all_names(self) -> list[str]:
        """Every user id, by number."""
        return list(self._names)

    def befriend(self, a: int, b: int) -> bool:
        """Add the edge; False when it already existed."""
        _pair(a, b)
        if not self._graph.befriend(a, b):
            return False
        self._search.forget_balls(a, b)
        return True

    def unfriend(self, a: int, b: int) -> bool:
        """Remove the edge; False when it was absent."""
        _pair(a, b)
        if b not in self._graph.adj[a]:
            return False
        self._search.forget_balls(a, b)  # while the edge is still there
        self._graph.unfriend(a, b)
        return True

    def friends(self, user: int) -> list[int]:
        """The user's friends, sorted."""
        return sorted(self._graph.adj[user])

    def edges(self) -> int:
        """How many friendships there are."""
        return sum(map(len, self._graph.adj)) // 2

    def pack(self) -> None:
        """The compiled core lays its friend lists out for searches here; sets need nothing."""

    def by_id(self, users: Iterable[int]) -> list[int]:
        """``users`` (numbers) in id order (:func:`netflag.engine.ids.id_order`)."""
        names = self._names
        return sorted(users, key=lambda user: id_order(names[user]))

    # -- purchases --------------------------------------------------------------

    def add(self, user: int, ts: int, seq: int, units: int) -> None:
        """Record a purchase; the user's oldest is evicted past T."""
        self.max_units = max(self.max_units, units)
        self._history.add(user, order_key(ts, seq), units)

    def rescale(self, factor: int) -> None:
        """Multiply every stored amount by ``factor`` (a finer decimal scale arrived)."""
        self._history.rescale(factor)
        self.max_units *= factor

    def kept(self) -> int:
        """How many purchases are kept (at most T per user)."""
        return sum(map(len, self._history.tails))

    def tail(self, user: int) -> list[tuple[int, int, int]]:
        """The user's kept purchases, oldest first, as ``(ts, seq, units)``."""
        return [(key >> SEQ_BITS, key & _LOW, units) for key, _, units in self._history.tails[user]]

    # -- the kernels: in search.py and recommend.py ---------------------------------

    def rings(self, user: int, radius: int) -> list[list[int]]:
        """The users at exactly 1, 2, ... ``radius`` hops (fewer if the graph ends)."""
        return [list(ring) for ring in self._graph.rings(user, radius)[1]]

    def check(self, user: int, strategy: int) -> tuple[int, int, int, str]:
        """The buyer's baseline sums: ``(n, S1, S2, path)``; every strategy gives the same."""
        return self._search.check(user, STRATEGIES[strategy])

    def newest_of(self, members: Iterable[int], count: int) -> list[tuple[int, int, int, int]]:
        """The ``count`` newest purchases of ``members`` as ``(ts, seq, owner, units)``."""
        return [
            (key >> SEQ_BITS, key & _LOW, owner, units)
            for key, owner, units in self._history.newest_of(set(members), count)
        ]

    def common(self, a: int, b: int) -> list[int]:
        """The friends ``a`` and ``b`` share, in id order."""
        return recommend.common(self._graph.adj, self._names, a, b)

    def recommend(self, user: int, limit: int) -> list[tuple[int, int]]:
        """Users at distance exactly 2 from ``user`` and how many friends they share,
        the best ``limit`` first: more mutual friends, then id order."""
        return recommend.ranked(self._graph.adj, self._names, user, limit)

    # -- whole state ----------------------------------------------------------------

    def feed(
        self,
        data: bytes | mmap,
        pos: int,
        end: int,
        line: int,
        seq: int,
        scale: int,
        max_id: int,
        max_line: int,
    ) -> tuple[int, int, int]:
        """The compiled core's canonical-line fast path; here it applies nothing."""
        return pos, line, seq

    def load(
        self,
        user_ids: list[str],
        lo: Sequence[int],
        hi: Sequence[int],
        ts: Sequence[int],
        seq: Sequence[int],
        owner: Sequence[int],
        units: Sequence[int],
        below: int = SEQ_LIMIT,
    ) -> None:
        """Fill an empty core (see ``_core.Core.load``); ValueError when inconsistent."""
        if self.users or self.kept():
            raise ValueError("load() needs an empty core")
        for number, name in enumerate(user_ids):
            if self.intern(name) != number:
                raise ValueError(f"user id {name!r} repeats")
        users = len(user_ids)
        lo_, hi_ = as_ints(lo), as_ints(hi)
        ts_, seq_, owner_, units_ = as_ints(ts), as_ints(seq), as_ints(owner), as_ints(units)
        if len(lo_) != len(hi_):
            raise ValueError("edge columns differ in length")
        if not len(ts_) == len(seq_) == len(owner_) == len(units_):
            raise ValueError("purchase columns differ in length")
        if any(a < 0 or b >= users or a >= b for a, b in zip(lo_, hi_, strict=True)):
            raise ValueError("an edge names an unknown user or is not (lo < hi)")
        pairs = list(zip(lo_, hi_, strict=True))
        if any(p >= q for p, q in zip(pairs, pairs[1:], strict=False)):
            raise ValueError("edges are not sorted, or one repeats")
        if any(o < 0 or o >= users for o in owner_) or min(units_ + ts_ + seq_, default=0) < 0:
            raise ValueError("a purchase names an unknown user or holds a negative value")
        if max(seq_, default=-1) >= min(below, SEQ_LIMIT):
            raise ValueError("a purchase is numbered at or past the state's next number")
        keys = [order_key(t, s) for t, s in zip(ts_, seq_, strict=True)]
        if any(a >= b for a, b in zip(keys, keys[1:], strict=False)):
            raise ValueError("purchases are not sorted by key")
        per_user = [0] * users
        for o in owner_:
            per_user[o] += 1
        if max(per_user, default=0) > self.T:
            raise ValueError("a user has more than T purchases")
        adj = self._graph.adj
        for a, b in zip(lo_, hi_, strict=True):
            adj[a].add(b)
            adj[b].add(a)
        self._history.load(zip(keys, owner_, units_, strict=True))
        self.max_units = max(units_, default=0)

    def export(self) -> tuple[Sequence[int], ...]:
        """The state as columns: edges ``(lo, hi)`` sorted; purchases sorted by key.

        Units are an ``array('q')`` when they fit 64 bits, else a list of ints.
        """
        adj = self._graph.adj
        lo, hi = array("i"), array("i")
        for a in range(len(adj)):
            for b in sorted(adj[a]):
                if a < b:
                    lo.append(a)
                    hi.append(b)
        entries = self._history.entries()
        ts = array("q", [key >> SEQ_BITS for key, _, _ in entries])
        seq = array("q", [key & _LOW for key, _, _ in entries])
        owner = array("i", [o for _, o, _ in entries])
        values = [units for _, _, units in entries]
        units: Sequence[int] = array("q", values) if max(values, default=0) <= INT64_MAX else values
        return lo, hi, ts, seq, owner, units
