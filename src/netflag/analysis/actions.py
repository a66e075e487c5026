"""What a flag leads to: the feed audience and friend recommendations, one JSON line per flag.

SPEC: a flagged purchase is highlighted in the buyer's friends' feeds, and
friends-of-friends who share a mutual friend with the buyer are invited to
befriend them. Both are read off the graph *at the moment of the flag*, so
they are written while the engine still stands there: by a flag hook
(:data:`netflag.pipeline.FlagHook`) in replay, by the pipeline's actions output
in live mode; both write :func:`action_line`.

Ordering (docs/analysis.md): ids sort by :func:`~netflag.analysis.common.id_order`;
recommendations rank by number of mutual friends (more first), then id.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from weakref import WeakKeyDictionary

import orjson

from netflag.analysis.common import id_order
from netflag.engine import Decision, Engine, Purchase
from netflag.io.output import AtomicFile, flagged_line
from netflag.pipeline import FlagHook

DEFAULT_MAX_RECOMMENDATIONS = 10
ORDER_CACHE = 1 << 20  # id order keys kept per engine
IdKey = tuple[int, int, str]  # id_order's key: its last item is the id itself


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Invite ``user`` (at distance exactly 2) to befriend the buyer, through these friends."""

    user: str
    mutual_friends: tuple[str, ...]


_ORDERS: WeakKeyDictionary[Engine, IdOrder] = WeakKeyDictionary()


class FriendSets(Protocol):
    """Friends by user number: a list of sets, or :attr:`Engine.friends` (lists)."""

    def __getitem__(self, user: int, /) -> Collection[int]: ...


class IdOrder:
    """Users in :func:`id_order` of their ids, each id's key worked out once.

    An id never changes, so one per engine (:meth:`of`) serves every flag; the
    keys are bounded (``ORDER_CACHE``) for huge graphs, which costs only time.
    """

    def __init__(self, name: Callable[[int], str]) -> None:
        self.name = name
        self.keys: dict[int, IdKey] = {}

    @classmethod
    def of(cls, engine: Engine) -> IdOrder:
        order = _ORDERS.get(engine)
        if order is None:
            order = _ORDERS[engine] = cls(engine.user_name)
        return order

    def sort(self, users: Iterable[int]) -> list[int]:
        """``users`` in id order."""
        return sorted(self._known(users), key=self.keys.__getitem__)

    def first(self, count: int, users: Iterable[int]) -> list[int]:
        """The ``count`` first of ``users`` in id order, in that order."""
        return heapq.nsmallest(count, self._known(users), key=self.keys.__getitem__)

    def ids(self, users: Iterable[int]) -> list[str]:
        """The ids of ``users`` (already in :attr:`keys`)."""
        return [self.keys[user][2] for user in users]

    def _known(self, users: Iterable[int]) -> list[int]:
        users = list(users)
        keys = self.keys
        missing = [user for user in users if user not in keys]
        if len(keys) + len(missing) > ORDER_CACHE:
            keys.clear()
            missing = users
        name = self.name
        for user in missing:
            keys[user] = id_order(name(user))
        return users


def feed_audience(
    adj: FriendSets, user: int, name: Callable[[int], str], order: IdOrder | None = None
) -> list[str]:
    """The buyer's friends, in id order: whose feeds highlight the purchase.

    ``order`` keeps the ids' order keys between calls (made from ``name`` if not given).
    """
    order = order or IdOrder(name)
    return order.ids(order.sort(adj[user]))


def recommendations(
    adj: FriendSets,
    user: int,
    name: Callable[[int], str],
    limit: int,
    order: IdOrder | None = None,
) -> list[Recommendation]:
    """Users at distance exactly 2 with their mutual friends, best ``limit`` first.

    Rank: more mutual friends first, then the candidate's id; each list of
    mutual friends is in id order. ``order`` as in :func:`feed_audience`.
    """
    order = order or IdOrder(name)
    friends = adj[user]
    near = {friend: adj[friend] for friend in friends}
    counts: Counter[int] = Counter()
    for their in near.values():
        counts.update(their)
    for known in (user, *friends):
        counts.pop(known, None)
    limit = max(limit, 0)
    if not limit or not counts:
        return []
    # Those with more mutual friends than the limit-th are in; among those with exactly as
    # many, the first ids. Only those need their id: most candidates never do.
    floor = heapq.nlargest(limit, counts.values())[-1]
    chosen = [c for c, n in counts.items() if n > floor]
    chosen += order.first(limit - len(chosen), (c for c, n in counts.items() if n == floor))
    ranked = order.sort(chosen)
    ranked.sort(key=counts.__getitem__, reverse=True)  # stable: ids stay in order within a count
    return [
        Recommendation(
            who, tuple(order.ids(order.sort(f for f, their in near.items() if c in their)))
        )
        for who, c in zip(order.ids(ranked), ranked, strict=True)
    ]


def action_line(
    engine: Engine, event: Purchase, decision: Decision, raw: bytes, limit: int
) -> bytes:
    """One JSON line: the flagged line as replay writes it, its feed, its recommendations.

    The flagged event is embedded byte for byte (``"amount": 12.50`` stays 12.50).
    """
    baseline = decision.baseline
    if baseline is None:
        raise ValueError("only a flagged purchase (with a baseline) has actions")
    flagged = flagged_line(raw, baseline.mean_text(), baseline.sd_text()).rstrip(b"\n")
    user = engine.user_number(event.user)
    if user is None:
        raise ValueError(f"the engine never saw user {event.user!r}")
    adj, name, order = engine.friends, engine.user_name, IdOrder.of(engine)
    feed = orjson.dumps(feed_audience(adj, user, name, order))
    recs = orjson.dumps(
        [
            {"user": r.user, "mutual_friends": list(r.mutual_friends)}
            for r in recommendations(adj, user, name, limit, order)
        ]
    )
    return b'{"flagged": %s, "feed": %s, "recommendations": %s}\n' % (flagged, feed, recs)


class ActionWriter:
    """A replay/live flag hook that writes one :func:`action_line` per flag to ``sink``."""

    def __init__(self, sink: BinaryIO, max_recommendations: int = DEFAULT_MAX_RECOMMENDATIONS):
        self.sink = sink
        self.limit = max_recommendations
        self.count = 0

    def __call__(self, engine: Engine, event: Purchase, decision: Decision, raw: bytes) -> None:
        self.sink.write(action_line(engine, event, decision, raw, self.limit))
        self.count += 1

    def write_line(self, line: bytes) -> None:
        """Write an action line made elsewhere: by a worker, where the engine stands at the flag."""
        self.sink.write(line)
        self.count += 1


@contextmanager
def actions_file(
    path: Path | None, max_recommendations: int = DEFAULT_MAX_RECOMMENDATIONS
) -> Iterator[FlagHook | None]:
    """The hook for ``--actions FILE`` (None without a file); the file appears only on success."""
    if path is None:
        yield None
        return
    with AtomicFile(path) as sink:
        yield ActionWriter(sink, max_recommendations)
