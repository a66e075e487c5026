"""The engine: applies events in arrival order and decides every stream purchase.

This is the only place a flag is decided. It knows nothing of files, JSON or
command lines: it takes :mod:`netflag.engine.events` and returns decisions.
User ids are interned here; the graph, the purchases and the search for a
baseline live in a *core*: the compiled :mod:`netflag.engine._core` or its
pure-Python twin :mod:`netflag.engine.pycore` (see :mod:`netflag.engine.kernels`).
The core returns the baseline's exact integer sums; the flag test and the
printed digits are made here, from those sums, in Python integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from mmap import mmap
from typing import Literal

from netflag.engine.events import Befriend, Event, Purchase, Unfriend
from netflag.engine.history import SEQ_BITS, SEQ_LIMIT
from netflag.engine.kernels import Core, Kernel, new_core, units_limit
from netflag.engine.money import Amount, Baseline
from netflag.engine.params import Params
from netflag.engine.pycore import STRATEGIES
from netflag.engine.state import EngineState

Strategy = Literal["auto", "merge", "scan", "walk"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one stream purchase.

    ``baseline`` is None when the network made fewer than 2 purchases (never
    flagged). ``path`` names the strategy that found the baseline.
    """

    flagged: bool
    amount: Amount
    baseline: Baseline | None
    path: str


class Friends:
    """Read-only friend lists by user number: ``friends[u]`` lists user numbers (a copy)."""

    __slots__ = ("_core",)

    def __init__(self, core: Core) -> None:
        self._core = core

    def __getitem__(self, user: int) -> list[int]:
        return self._core.friends(user)


class Engine:
    """Friend graph + recent purchases + the flag rule, fed one event at a time.

    ``kernel`` picks the core (``"compiled"`` or ``"python"``; by default the
    compiled one when it is built). Both give the same decisions.

    >>> from netflag.engine.money import Amount
    >>> e = Engine(Params(D=3, T=50))
    >>> for ev in [Purchase(1, "1", Amount.from_text("16.83")),
    ...            Purchase(1, "1", Amount.from_text("59.28")),
    ...            Befriend(1, "1", "2"), Befriend(1, "3", "1"),
    ...            Purchase(1, "1", Amount.from_text("11.20")), Unfriend(1, "1", "3")]:
    ...     _ = e.apply(ev, check=False)
    >>> d = e.apply(Purchase(2, "2", Amount.from_text("1601.83")))
    >>> d.flagged, d.baseline.mean_text(), d.baseline.sd_text()
    (True, '29.10', '21.46')
    """

    def __init__(
        self, params: Params, *, strategy: Strategy = "auto", kernel: Kernel | None = None
    ) -> None:
        self.params = params
        self.strategy = strategy
        self._code = STRATEGIES.index(strategy)
        self._core, self._kernel = new_core(params.D, params.T, kernel)
        self._limit = units_limit(self._kernel)
        self._scale = 0
        self._seq = 0

    @property
    def kernel(self) -> Kernel:
        """Which core decides: ``compiled`` or ``python``. D or T of 2**31 or more
        take ``python``, and so does an engine, for good, from the first amount too
        large for the compiled core's 64-bit units."""
        return self._kernel

    @property
    def users(self) -> int:
        """How many distinct users the engine has seen."""
        return int(self._core.users)

    @property
    def friendships(self) -> int:
        """How many friendships the graph has now (counted: O(users))."""
        return int(self._core.edges())

    @property
    def next_seq(self) -> int:
        """The arrival number the next event gets (so far: how many events were applied)."""
        return self._seq

    @property
    def scale(self) -> int:
        """Stored amounts are ``units / 10**scale``."""
        return self._scale

    @property
    def friends(self) -> Friends:
        """Friend sets by user number, as the graph stands now."""
        return Friends(self._core)

    def user_number(self, user: str) -> int | None:
        """The internal number of a user id, or None if the engine never saw it."""
        number: int | None = self._core.number(user)
        return number

    def user_name(self, number: int) -> str:
        """The user id behind an internal number."""
        return str(self._core.name(number))

    def by_id(self, users: Iterable[int]) -> list[int]:
        """``users`` in the order of their ids (:func:`netflag.engine.ids.id_order`)."""
        return list(self._core.by_id(list(users)))

    def common_friends(self, a: int, b: int) -> list[int]:
        """The friends ``a`` and ``b`` share now, in id order."""
        return list(self._core.common(a, b))

    def recommend(self, user: int, limit: int) -> list[tuple[int, int]]:
        """``(candidate, mutual friends)`` for the users at distance exactly 2 from
        ``user`` now: the best ``limit``, more mutual friends first, then id order."""
        return list(self._core.recommend(user, limit))

    def rings(self, user: int, radius: int) -> list[set[int]]:
        """The users at exactly 1, 2, ... ``radius`` hops (fewer if the graph ends)."""
        return [set(ring) for ring in self._core.rings(user, radius)]

    def network_size(self, user: int) -> int:
        """How many users are within D hops of ``user`` (``user`` excluded)."""
        return sum(map(len, self._core.rings(user, self.params.D)))

    def newest_of(self, members: Iterable[int], count: int) -> list[tuple[int, int, int]]:
        """The ``count`` newest purchases of ``members`` as ``(key, owner, units)``, newest first.

        ``key = timestamp << 48 | arrival`` orders purchases as the rule does.
        """
        return [
            (ts << SEQ_BITS | seq, owner, units)
            for ts, seq, owner, units in self._core.newest_of(list(members), count)
        ]

    def tail(self, user: int) -> list[tuple[int, int, int]]:
        """The user's kept purchases (at most T), oldest first, as ``(key, user, units)``."""
        return [(ts << SEQ_BITS | seq, user, units) for ts, seq, units in self._core.tail(user)]

    def state(self) -> EngineState:
        """The whole state as columns (see :class:`EngineState`)."""
        lo, hi, ts, seq, owner, units = self._core.export()
        return EngineState(
            self.params,
            self._core.all_names(),
            lo,
            hi,
            ts,
            seq,
            owner,
            units,
            self._scale,
            self._seq,
        )

    @classmethod
    def from_state(
        cls, state: EngineState, *, strategy: Strategy = "auto", kernel: Kernel | None = None
    ) -> Engine:
        """An engine that continues exactly where ``state`` was taken.

        Inconsistent columns (unsorted, unknown users, more than T purchases a
        user, a purchase numbered at or past ``next_seq``) raise ValueError.
        """
        engine = cls(state.params, strategy=strategy, kernel=kernel)
        names = list(state.users)
        columns = (state.edge_lo, state.edge_hi, state.ts, state.seq, state.owner, state.units)
        try:
            engine._core.load(names, *columns, below=state.next_seq)
        except (OverflowError, TypeError):  # amounts beyond 64-bit units, or not a buffer
            if engine._kernel == "python":
                raise
            engine._to_python(names, columns, state.next_seq)
        engine._scale = state.scale
        engine._seq = state.next_seq
        engine.pack()
        return engine

    def pack(self) -> None:
        """Lay the state out for checks once a bulk load is over: the compiled core's
        friend lists share one array, where lists that outgrew their room left holes.
        Changes no decision; a no-op when no list moved since the last one."""
        self._core.pack()

    def feed(
        self, data: bytes | mmap, pos: int, end: int, line: int, *, max_id: int, max_line: int
    ) -> tuple[int, int]:
        """Apply batch lines of ``data`` from byte ``pos`` while they are canonical.

        The compiled core's fast path for batch logs in the challenge's own
        spelling: it applies such lines (checking nothing) up to byte ``end``
        and stops at any other line, which the caller parses and applies (or
        rejects) itself, and at ids over ``max_id`` bytes and lines over
        ``max_line`` (the caller's limits reject those). ``line`` is the number
        of the line before ``pos``. Returns ``(pos, line)`` where it stopped.
        The pure-Python core applies nothing here.
        """
        pos, line, self._seq = self._core.feed(
            data, pos, end, line, self._seq, self._scale, max_id, max_line
        )
        return pos, line

    def apply(self, event: Event, *, check: bool = True) -> Decision | None:
        """Apply one event in arrival order; a purchase is decided first when ``check``."""
        seq = self._seq
        self._seq += 1
        if isinstance(event, Purchase):
            return self._purchase(event, seq, check)
        a, b = self._core.intern(event.user1), self._core.intern(event.user2)
        if isinstance(event, Befriend):
            self._core.befriend(a, b)
        elif isinstance(event, Unfriend):
            self._core.unfriend(a, b)
        return None

    def _purchase(self, event: Purchase, seq: int, check: bool) -> Decision | None:
        user = self._core.intern(event.user)
        amount = event.amount
        if amount.scale > self._scale:
            factor = 10 ** (amount.scale - self._scale)
            self._fit(self._core.max_units * factor)
            self._core.rescale(factor)
            self._scale = amount.scale
        units = amount.at_scale(self._scale)
        self._fit(units)
        decision = self._decide(user, amount, units) if check else None
        self._core.add(user, event.timestamp, seq, units)
        return decision

    def _fit(self, units: int) -> None:
        """Move to the pure-Python core, exactly, before units outgrow the compiled one."""
        if self._limit is not None and units >= self._limit:
            self._to_python(self._core.all_names(), self._core.export())

    def _to_python(
        self, names: list[str], columns: tuple[Sequence[int], ...], below: int = SEQ_LIMIT
    ) -> None:
        """Carry on with the pure-Python core, loaded with ``names`` and ``columns``."""
        self._core, self._kernel = new_core(self.params.D, self.params.T, "python")
        lo, hi, ts, seq, owner, units = columns
        self._core.load(names, lo, hi, ts, seq, owner, units, below)
        self._limit = None

    def _decide(self, user: int, amount: Amount, units: int) -> Decision:
        n, s1, s2, path = self._core.check(user, self._code)
        if n < 2:
            return Decision(False, amount, None, path)
        baseline = Baseline(n, s1, s2, self._scale)
        return Decision(baseline.exceeds(units, self.params.k), amount, baseline, path)
