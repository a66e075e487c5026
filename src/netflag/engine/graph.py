"""The undirected friend graph over interned user numbers, and distance balls."""

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

    __slots__ = ("adj", "version")

    def __init__(self) -> None:
        self.adj: list[set[int]] = []
        self.version = 0

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
        self.version += 1
        return True

    def unfriend(self, a: int, b: int) -> bool:
        """Remove the edge; False when it was absent (a no-op)."""
        if b not in self.adj[a]:
            return False
        self.adj[a].discard(b)
        self.adj[b].discard(a)
        self.version += 1
        return True

    def ball(self, user: int, radius: int, limit: int | None = None) -> set[int] | None:
        """Users within ``radius`` hops of ``user``, ``user`` included.

        With ``limit``, gives up and returns None as soon as the ball would hold
        more than ``limit`` users: callers use that to pick a cheaper strategy.
        """
        adj = self.adj
        seen = {user}
        frontier = [user]
        for _ in range(radius):
            reached: list[int] = []
            for x in frontier:
                for y in adj[x]:
                    if y not in seen:
                        seen.add(y)
                        reached.append(y)
            if limit is not None and len(seen) > limit:
                return None
            if not reached:
                break
            frontier = reached
        return seen
