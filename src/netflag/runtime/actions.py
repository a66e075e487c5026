"""What a flag leads to: the feed audience and friend recommendations, one JSON line per flag.

SPEC: a flagged purchase is highlighted in the buyer's friends' feeds, and
friends-of-friends who share a mutual friend with the buyer are invited to
befriend them. Both are read off the graph *at the moment of the flag*, so
they are written while the engine still stands there: by a flag hook
(:data:`FlagHook`) in replay, by the pipeline's actions output
in live mode; both write :func:`action_line`.

Ordering (docs/analysis.md): ids sort by :func:`~netflag.engine.ids.id_order`;
recommendations rank by number of mutual friends (more first), then id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from netflag.engine import Decision, Engine, Purchase
from netflag.io.output import AtomicFile, flagged_line

DEFAULT_MAX_RECOMMENDATIONS = 10
# Called for every flag while the engine still stands at that moment.
FlagHook = Callable[[Engine, Purchase, Decision, bytes], None]


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Invite ``user`` (at distance exactly 2) to befriend the buyer, through these friends."""

    user: str
    mutual_friends: tuple[str, ...]


def feed_audience(engine: Engine, user: int) -> list[str]:
    """The buyer's friends, in id order: whose feeds highlight the purchase."""
    name = engine.user_name
    return [name(friend) for friend in engine.by_id(engine.friends[user])]


def recommendations(engine: Engine, user: int, limit: int) -> list[Recommendation]:
    """Users at distance exactly 2 with their mutual friends, best ``limit`` first.

    Rank: more mutual friends first, then the candidate's id; each list of
    mutual friends is in id order. The core ranks (in C++ when compiled): a
    buyer's friends-of-friends run to hundreds, and a flag pays for them all.
    """
    name = engine.user_name
    return [
        Recommendation(
            name(candidate), tuple(name(f) for f in engine.common_friends(user, candidate))
        )
        for candidate, _ in engine.recommend(user, limit)
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
    feed = orjson.dumps(feed_audience(engine, user))
    recs = orjson.dumps(
        [
            {"user": r.user, "mutual_friends": list(r.mutual_friends)}
            for r in recommendations(engine, user, limit)
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
