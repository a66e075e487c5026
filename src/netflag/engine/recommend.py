"""Friend suggestions of the pure-Python core (twin of ``_recommend.pxi``).

Functions over the core's friend sets and user ids, behind ``pycore.Core.common``
and ``Core.recommend``: mutual friends as a set intersection, suggestions as a
tally of friends of friends, ranked by more mutual friends, then id order
(:func:`netflag.engine.ids.id_order`).
"""

from __future__ import annotations

from collections import Counter

from netflag.engine.ids import id_order


def common(adj: list[set[int]], names: list[str], a: int, b: int) -> list[int]:
    """The friends ``a`` and ``b`` share, in id order."""
    return sorted(adj[a] & adj[b], key=lambda user: id_order(names[user]))


def ranked(adj: list[set[int]], names: list[str], user: int, limit: int) -> list[tuple[int, int]]:
    """Users at distance exactly 2 from ``user`` and how many friends they share,
    the best ``limit`` first: more mutual friends, then id order."""
    friends = adj[user]
    counts: Counter[int] = Counter()
    for friend in friends:
        counts.update(adj[friend])
    for known in (user, *friends):
        counts.pop(known, None)
    best = sorted(counts.items(), key=lambda item: (-item[1], id_order(names[item[0]])))
    return best[: max(limit, 0)]
