"""The engine: applies events in arrival order and decides every stream purchase.

This is the only place a flag is decided. It knows nothing of files, JSON or
command lines: it takes :mod:`netflag.engine.events` and returns decisions.

Three exact ways to find a purchase's baseline (the last T purchases of the
buyer's D-degree network), chosen per check from the network's size
(see :meth:`Engine._network` and docs/design.md):

* ``merge``: build the network's set; merge the last-T lists of the (at most
  T) members with the newest purchases. Cheap when the network is small.
* ``scan``: build the network's set; scan all kept purchases from the newest
  in C (``compress`` over a membership map) until T are found.
* ``walk``: no set; walk from the newest purchase, testing each buyer by
  meeting in the middle: with far = min(D // 2, 2), dist(u, v) <= D iff
  ball(u, D - far) meets ball(v, far). Cheap when the network is a large part
  of the graph.

All give the same list, so the choice changes speed, never a result.
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

Strategy = Literal["auto", "merge", "scan", "walk"]
# Cached radius-2 balls are dropped wholesale past this many members in all (bounds memory).
BALL_CACHE_LIMIT = 2_000_000


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
        self._balls: dict[int, tuple[set[int], set[int]]] = {}
        self._cached_size = 0

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
            purchases=tuple(self._history.entries()),
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
        engine._history.load(state.purchases)
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
        far = min(D // 2, 2)  # the candidate's side: radius-2 balls are cached
        near, rim = self._ball(user, D - far)
        strategy = self.strategy
        network = None if strategy == "walk" else self._network(near, rim, far, T)
        if network is None:
            return self._walk(user, near, far, T), "walk"
        network.discard(user)
        if (
            strategy == "merge"
            or strategy == "auto"
            and 16 * len(network) ** 2 <= T * len(self._names)
        ):
            return self._history.last_of(network, T), "merge"
        return self._history.last_in(network, T), "scan"

    def _network(self, ball: set[int], rim: set[int], more: int, T: int) -> set[int] | None:
        """ball(user, D) grown from ball(user, D - more), or None when a walk is cheaper.

        Per check, with N = |network| and U users (purchases spread evenly):
        a merge costs ~N Python steps, a scan (a C-level walk testing
        membership in the network's set) ~N set inserts plus T*U/N cheap
        steps, and a walk (no set, meeting in the middle) T*U/N costly steps.
        Measured on generated graphs: merge pays below N = sqrt(T*U)/4, the
        walk above 2 sqrt(T*U), the scan between. Growth stops as soon as the next layer's
        upper bound (the rim's degree sum) says so, so a big network costs
        little to give up on. A forced strategy never gives up.
        """
        adj = self._graph.adj
        limit = 4 * T * len(self._names) if self.strategy == "auto" else None
        grown = ball
        for step in range(more):
            neighbours = [adj[x] for x in rim]
            if limit is not None:
                bound = len(grown) + sum(map(len, neighbours))
                if bound * bound > limit:
                    return None
            if step == more - 1:
                grown = grown.union(*neighbours)  # the last layer's rim is not needed
                break
            rim = set().union(*neighbours)
            rim -= grown
            grown = grown | rim
        else:  # more == 0: the ball is the network, already paid for; never give it up
            return set(grown)  # a copy: never hand out the (cached) ball itself
        if limit is not None and len(grown) ** 2 > limit:
            return None
        return grown

    def _walk(self, user: int, near: set[int], far: int, T: int) -> list[int]:
        """Newest purchases first, keeping those whose buyer is within D of ``user``.

        ``near`` is ball(user, D - far): a buyer v is within D iff ball(v, far)
        meets ``near``. Radius 0 and 1 are tested directly; radius-2 balls of
        buyers are cached, since the newest buyers recur from check to check.
        """
        if far == 0:  # D=1, walk forced: membership in near is the whole test, so scan in C
            return self._history.last_in(near - {user}, T)
        adj, ball = self._graph.adj, self._ball
        out: list[int] = []
        # One loop per radius, so the hot loop tests nothing it need not.
        if far == 1:
            for _, owner, units in self._history.newest_first():
                if owner != user and (owner in near or not adj[owner].isdisjoint(near)):
                    out.append(units)
                    if len(out) == T:
                        break
        else:
            for _, owner, units in self._history.newest_first():
                if owner != user and (owner in near or not near.isdisjoint(ball(owner, 2)[0])):
                    out.append(units)
                    if len(out) == T:
                        break
        return out

    def _ball(self, user: int, radius: int) -> tuple[set[int], set[int]]:
        """ball(user, radius) and its rim (read-only: radius-2 balls are cached)."""
        if radius != 2:
            return self._graph.layers(user, radius)
        cached = self._balls.get(user)
        if cached is None:
            if self._cached_size > BALL_CACHE_LIMIT:
                self._balls.clear()
                self._cached_size = 0
            cached = self._balls[user] = self._graph.layers(user, 2)
            self._cached_size += len(cached[0])
        return cached

    def _forget_balls(self, a: int, b: int) -> None:
        """Drop cached radius-2 balls that the edge a-b can change.

        ball(x, 2) depends on the edge only if x is a, b or a friend of one of
        them in the graph that holds the edge; call this while it does.
        """
        if not self._balls:
            return
        adj = self._graph.adj
        for x in (a, b, *adj[a], *adj[b]):
            dropped = self._balls.pop(x, None)
            if dropped is not None:
                self._cached_size -= len(dropped[0])
