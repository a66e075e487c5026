"""The synthetic world :mod:`netflag.devtools.generate` draws from: a clock and a social graph.

Both take their randomness from the generator's one ``random.Random``, so the
same seed gives the same world.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

SEED_CLIQUE = 6  # first nodes form a clique, then preferential attachment
NEW_EDGES = (3, 7)  # edges per joining user: mean 5, so mean degree ~10
PER_SECOND = (2, 25)  # events sharing one timestamp


class Clock:
    """Hands out non-decreasing timestamps, a random-size group per second."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self._rng = rng
        self._now = start
        self.stamp = start.strftime("%Y-%m-%d %H:%M:%S")
        self._left = rng.randint(*PER_SECOND)

    def tick(self) -> str:
        if self._left == 0:
            self.skip()
        self._left -= 1
        return self.stamp

    def skip(self) -> None:
        """Move to the next second (so the stream starts after the batch)."""
        self._now += timedelta(seconds=1)
        self.stamp = self._now.strftime("%Y-%m-%d %H:%M:%S")
        self._left = self._rng.randint(*PER_SECOND)


class Graph:
    """Undirected edge set with O(1) random removal and degree-weighted picks.

    Edges are ints ``a * users + b`` (a < b) to keep the large preset light.
    ``ends`` holds both endpoints of every edge ever added, so a uniform pick
    from it is a preferential-attachment pick (removals are ignored there:
    they are rare and only blur the weights slightly).
    """

    def __init__(self, users: int, rng: random.Random) -> None:
        self.users = users
        self._rng = rng
        self._edges: list[int] = []
        self._pos: dict[int, int] = {}
        self.ends: list[int] = []

    def _key(self, a: int, b: int) -> int:
        return a * self.users + b if a < b else b * self.users + a

    def has(self, a: int, b: int) -> bool:
        return self._key(a, b) in self._pos

    def add(self, a: int, b: int) -> None:
        key = self._key(a, b)
        if key not in self._pos:
            self._pos[key] = len(self._edges)
            self._edges.append(key)
            self.ends.append(a)
            self.ends.append(b)

    def discard(self, a: int, b: int) -> None:
        i = self._pos.pop(self._key(a, b), None)
        if i is not None:
            last = self._edges.pop()
            if i < len(self._edges):
                self._edges[i] = last
                self._pos[last] = i

    def random_edge(self) -> tuple[int, int] | None:
        if not self._edges:
            return None
        return divmod(self._edges[int(self._rng.random() * len(self._edges))], self.users)

    def growth_plan(self) -> list[int]:
        """Edges each user brings when joining; drawn up front so the total is known."""
        lo, hi = NEW_EDGES
        return [
            i if i < SEED_CLIQUE else min(i, self._rng.randint(lo, hi)) for i in range(self.users)
        ]

    def growth(self, plan: list[int]) -> Iterator[tuple[int, int]]:
        """Yield (new user, existing user) pairs, targets chosen by degree."""
        rnd, ends = self._rng.random, self.ends
        for new, m in enumerate(plan):
            if new < SEED_CLIQUE:
                targets = list(range(new))
            else:
                targets = []
                while len(targets) < m:
                    t = ends[int(rnd() * len(ends))]
                    if t not in targets:
                        targets.append(t)
            for t in targets:
                yield new, t


def new_friendship(graph: Graph, rng: random.Random) -> tuple[int, int]:
    """A random user befriends a degree-weighted one; retries avoid existing edges."""
    n, rnd = graph.users, rng.random
    a = int(rnd() * n)
    for _ in range(20):
        b = graph.ends[int(rnd() * len(graph.ends))] if graph.ends else int(rnd() * n)
        if b != a and not graph.has(a, b):
            return a, b
    return a, (a + 1 + int(rnd() * (n - 1))) % n
