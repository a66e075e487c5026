"""The network search and the baseline of the pure-Python core (twin of ``_search.pxi``).

:class:`Search` runs ``pycore.Core.check`` over the core's graph and history,
and keeps the cache of radius-2 balls that the walk reuses. Three exact ways to
find a purchase's baseline (the last T purchases of the buyer's D-degree
network), chosen per check from the network's size:

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

from netflag.engine.graph import Graph
from netflag.engine.history import History

# Cached radius-2 balls are dropped wholesale past this many members in all (bounds memory).
BALL_CACHE_LIMIT = 2_000_000


class Search:
    """The check over one core's users, graph and history (shared, never copied)."""

    __slots__ = ("D", "T", "_names", "_graph", "_history", "_balls", "_cached_size")

    def __init__(self, D: int, T: int, names: list[str], graph: Graph, history: History) -> None:
        self.D, self.T = D, T
        self._names = names  # only its length counts: the number of users
        self._graph = graph
        self._history = history
        self._balls: dict[int, tuple[set[int], set[int]]] = {}
        self._cached_size = 0

    def check(self, user: int, strategy: str) -> tuple[int, int, int, str]:
        """The buyer's baseline sums: ``(n, S1, S2, path)``; every strategy gives the same."""
        units, path = self._baseline_units(user, strategy)
        return len(units), sum(units), sum(x * x for x in units), path

    def _baseline_units(self, user: int, strategy: str) -> tuple[list[int], str]:
        D, T = self.D, self.T
        far = min(D // 2, 2)  # the candidate's side: radius-2 balls are cached
        near, rim = self._ball(user, D - far)
        network = None if strategy == "walk" else self._network(near, rim, far, T, strategy)
        if network is None:
            return self._walk(user, near, far, T), "walk"
        network.discard(user)
        users = len(self._names)
        if strategy == "merge" or strategy == "auto" and 16 * len(network) ** 2 <= T * users:
            return self._history.last_of(network, T), "merge"
        return self._history.last_in(network, T), "scan"

    def _network(
        self, ball: set[int], rim: set[int], more: int, T: int, strategy: str
    ) -> set[int] | None:
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
        limit = 4 * T * len(self._names) if strategy == "auto" else None
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

    def forget_balls(self, a: int, b: int) -> None:
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
