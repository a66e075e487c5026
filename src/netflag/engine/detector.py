"""The engine: applies events in arrival order and decides every stream purchase.

This is the only place a flag is decided. It knows nothing of files, JSON or
command lines: it takes :mod:`netflag.engine.events` and returns decisions.

Two exact ways to find a purchase's baseline (the last T purchases of the
buyer's D-degree network), chosen per check:

* ``merge``: a breadth-first search gives the network; a heap merges the
  members' own last-T lists. Cheap when the network is small.
* ``walk``: walk all kept purchases from the newest, keeping those whose buyer
  is within distance D, until T are found. Distance is tested by meeting in the
  middle: dist(u, v) <= D iff ball(u, ceil(D/2)) meets ball(v, floor(D/2)).
  Cheap when the network is a large part of the graph.

Both give the same list, so the choice changes speed, never a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from netflag.engine.events import Befriend, Event, Purchase, Unfriend
from netflag.engine.graph import Graph
from netflag.engine.history import History, order_key
from netflag.engine.money import Amount, Baseline
from netflag.engine.params import Params
from netflag.engine.state import EngineState

Strategy = Literal["auto", "merge", "walk"]
# Cached balls per radius are dropped wholesale past this many (bounds memory).
BALL_CACHE_LIMIT = 50_000


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


class Engine:
    """Friend graph + recent purchases + the flag rule, fed one event at a time.

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

    def __init__(self, params: Params, *, strategy: Strategy = "auto") -> None:
        self.params = params
        self.strategy = strategy
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._graph = Graph()
        self._history = History(params.T)
        self._scale = 0
        self._seq = 0
        self._balls: dict[int, dict[int, set[int]]] = {}

    @property
    def users(self) -> int:
        """How many distinct users the engine has seen."""
        return len(self._ids)

    @property
    def graph(self) -> Graph:
        """The friend graph over user numbers (read it; change it only through apply)."""
        return self._graph

    @property
    def history(self) -> History:
        """Each user's last T purchases (read it; change it only through apply)."""
        return self._history

    @property
    def scale(self) -> int:
        """Stored amounts are ``units / 10**scale``."""
        return self._scale

    def user_number(self, user: str) -> int | None:
        """The internal number of a user id, or None if the engine never saw it."""
        return self._ids.get(user)

    def user_name(self, number: int) -> str:
        """The user id behind an internal number."""
        return self._names[number]

    def state(self) -> EngineState:
        """The whole state as plain data (see :class:`EngineState`)."""
        adj = self._graph.adj
        return EngineState(
            params=self.params,
            users=tuple(self._names),
            edges=tuple((a, b) for a in range(len(adj)) for b in sorted(adj[a]) if a < b),
            purchases=tuple(
                (user, key, units)
                for user, tail in enumerate(self._history.tails)
                for key, units in tail
            ),
            scale=self._scale,
            seq=self._seq,
        )

    @classmethod
    def from_state(cls, state: EngineState, *, strategy: Strategy = "auto") -> Engine:
        """An engine that continues exactly where ``state`` was taken."""
        engine = cls(state.params, strategy=strategy)
        for name in state.users:
            engine._number(name)
        adj = engine._graph.adj
        for a, b in state.edges:
            adj[a].add(b)
            adj[b].add(a)
        tails = engine._history.tails
        for user, key, units in state.purchases:
            tails[user].append((key, units))
        for tail in tails:
            tail.sort()
            del tail[: -state.params.T]
        engine._scale = state.scale
        engine._seq = state.seq
        return engine

    def apply(self, event: Event, *, check: bool = True) -> Decision | None:
        """Apply one event in arrival order; a purchase is decided first when ``check``."""
        seq = self._seq
        self._seq += 1
        if isinstance(event, Purchase):
            return self._purchase(event, seq, check)
        a, b = self._number(event.user1), self._number(event.user2)
        if isinstance(event, Befriend):
            if self._graph.befriend(a, b):
                self._forget_balls(a, b)
        elif isinstance(event, Unfriend) and b in self._graph.adj[a]:
            self._forget_balls(a, b)  # while the edge is still there
            self._graph.unfriend(a, b)
        return None

    def _number(self, user: str) -> int:
        number = self._ids.get(user)
        if number is None:
            number = self._ids[user] = len(self._names)
            self._names.append(user)
            self._graph.grow(number + 1)
            self._history.grow(number + 1)
        return number

    def _purchase(self, event: Purchase, seq: int, check: bool) -> Decision | None:
        user = self._number(event.user)
        amount = event.amount
        if amount.scale > self._scale:
            self._history.rescale(10 ** (amount.scale - self._scale))
            self._scale = amount.scale
        units = amount.at_scale(self._scale)
        decision = self._decide(user, amount, units) if check else None
        self._history.add(user, order_key(event.timestamp, seq), units)
        return decision

    def _decide(self, user: int, amount: Amount, units: int) -> Decision:
        recent, path = self._baseline_units(user)
        if len(recent) < 2:
            return Decision(False, amount, None, path)
        baseline = Baseline.of(recent, self._scale)
        return Decision(baseline.exceeds(units, self.params.k), amount, baseline, path)

    def _baseline_units(self, user: int) -> tuple[list[int], str]:
        D, T = self.params.D, self.params.T
        if self.strategy != "walk":
            limit = None if self.strategy == "merge" else max(64, len(self._ids) // 8)
            network = self._graph.ball(user, D, limit)
            if network is not None:
                network.discard(user)
                return self._history.last_of(network, T), "merge"
        return self._walk(user, D, T), "walk"

    def _walk(self, user: int, D: int, T: int) -> list[int]:
        near = self._ball(user, (D + 1) // 2)
        far_radius = D // 2
        adj = self._graph.adj
        verdict: dict[int, bool] = {}
        out: list[int] = []
        for owner, units in self._history.newest_first():
            inside = verdict.get(owner)
            if inside is None:
                if owner == user:
                    inside = False
                elif far_radius == 0 or owner in near:
                    inside = owner in near
                elif far_radius == 1:
                    inside = not near.isdisjoint(adj[owner])
                else:
                    inside = not near.isdisjoint(self._ball(owner, far_radius))
                verdict[owner] = inside
            if inside:
                out.append(units)
                if len(out) == T:
                    break
        return out

    def _ball(self, user: int, radius: int) -> set[int]:
        """Cached ball; a radius-1 ball is cheap enough to build every time."""
        if radius <= 1:
            return self._graph.adj[user] | {user} if radius else {user}
        cache = self._balls.setdefault(radius, {})
        ball = cache.get(user)
        if ball is None:
            if len(cache) >= BALL_CACHE_LIMIT:
                cache.clear()
            ball = cache[user] = self._graph.ball(user, radius) or {user}
        return ball

    def _forget_balls(self, a: int, b: int) -> None:
        """Drop cached balls that the edge a-b (present in the graph now) can change.

        ball(x, r) depends on the edge only if x is within r-1 hops of a or b
        in the graph that holds the edge, so only those entries go.
        """
        for radius, cache in self._balls.items():
            if not cache:
                continue
            for end in (a, b):
                for x in self._graph.ball(end, radius - 1) or ():
                    cache.pop(x, None)
