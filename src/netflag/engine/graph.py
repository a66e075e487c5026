"""The undirected friend graph over interned user numbers, and distance balls.

Part of the pure-Python core (:mod:`netflag.engine.pycore`); the compiled core
keeps friend lists as arrays instead.
"""

from __future__ import annotations


class Graph:
    """Adjacency sets indexed by user number; users are added by :meth:`grow`.

    >>> g = Graph()
    >>> g.grow(4)
    >>> for a, b in [(0, 1), (1, 2), (2, 3)]:
    ...     _ = g.befriend(a, b)
    >>> sorted(g.ball(0, 2))
    [0, 1, 2]
    """

    __slots__ = ("adj",)

    def __init__(self) -> None:
        self.adj: list[set[int]] = []

    def grow(self, users: int) -> None:
        """Make room for user numbers below ``users``."""
        while len(self.adj) < users:
            self.adj.append(set())

    def befriend(self, a: int, b: int) -> bool:
        """Add the edge; False when it already existed (a no-op)."""
        if b in self.adj[a]:
            return False
        self.adj[a].add(b)
        self.adj[b].add(a)
        return True

    def unfriend(self, a: int, b: int) -> bool:
        """Remove the edge; False when it was absent (a no-op)."""
        if b not in self.adj[a]:
            return False
        self.adj[a].discard(b)
        self.adj[b].discard(a)
        return True

    def ball(self, user: int, radius: int) -> set[int]:
        """Users within ``radius`` hops of ``user``, ``user`` included."""
        return self.layers(user, radius)[0]

    def layers(self, user: int, radius: int) -> tuple[set[int], set[int]]:
        """ball(user, radius) and its rim, the users at exactly ``radius`` hops (or none)."""
        ball, rings = self.rings(user, radius)
        return ball, rings[-1] if len(rings) == radius else set()

    def rings(self, user: int, radius: int) -> tuple[set[int], list[set[int]]]:
        """ball(user, radius), and the users at exactly 1, 2, ... hops (fewer if the graph ends).

        Each ring is one C-level set union over the previous one, not a Python
        loop per edge.

        >>> g = Graph()
        >>> g.grow(4)
        >>> for a, b in [(0, 1), (1, 2), (0, 2)]:
        ...     _ = g.befriend(a, b)
        >>> g.rings(0, 3)
        ({0, 1, 2}, [{1, 2}])
        """
        adj = self.adj
        seen = {user}
        rim = seen
        rings: list[set[int]] = []
        for _ in range(radius):
            rim = set().union(*[adj[x] for x in rim])
            rim -= seen
            if not rim:
                break
            seen |= rim
            rings.append(rim)
        return seen, rings

    def extend(self, ball: set[int], rim: set[int]) -> set[int]:
        """A new set: ``ball`` plus one more layer beyond its ``rim``."""
        return ball.union(*[self.adj[x] for x in rim])
