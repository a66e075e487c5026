"""The compiled core's friend lists in one array (``_graph.h``) under churn.

A list that outgrows its room moves to the array's end, leaving a hole; ``Engine.pack``
closes the holes. Neither may change a friend list or a decision: each run here is
compared, list by list and verdict by verdict, with the pure-Python core.
"""

from __future__ import annotations

import random

import pytest

from netflag.engine import Amount, Befriend, Engine, Event, Params, Purchase, Unfriend


def churn(seed: int, events: int, users: int, befriends: float) -> list[Event]:
    """Friendships made (share ``befriends``) and broken among ``users``, purchases between."""
    rng = random.Random(seed)
    out: list[Event] = []
    for when in range(events):
        a, b = rng.sample(range(users), 2)
        roll = rng.random()
        if roll < 0.1:
            amount = Amount.from_text(f"{rng.randrange(1, 5_000)}.{rng.randrange(100):02d}")
            out.append(Purchase(when, str(a), amount))
        elif roll < 0.1 + befriends:
            out.append(Befriend(when, str(a), str(b)))
        else:
            out.append(Unfriend(when, str(a), str(b)))
    return out


def same_graph(compiled: Engine, python: Engine) -> None:
    assert compiled.users == python.users
    assert compiled.friendships == python.friendships
    for name in map(str, range(compiled.users)):
        a, b = compiled.user_number(name), python.user_number(name)
        if a is None or b is None:
            assert a is b
            continue
        mine = sorted(compiled.user_name(v) for v in compiled.friends[a])
        assert mine == sorted(python.user_name(v) for v in python.friends[b])


@pytest.mark.parametrize(
    ("seed", "users", "befriends", "D"),
    [
        (1, 60, 0.8, 2),  # lists grow past 32 friends: five moves each, then unfriends
        (2, 400, 0.6, 3),  # lists move and shrink by turns
        (3, 2_000, 0.88, 4),  # a sparse graph: most lists move once or twice
    ],
)
def test_moved_and_packed_lists_match_the_python_core(
    seed: int, users: int, befriends: float, D: int
) -> None:
    log = churn(seed, 12_000, users, befriends)
    params = Params(D, 5)
    compiled = Engine(params, kernel="compiled")
    python = Engine(params, kernel="python")
    rng = random.Random(seed)
    for start in range(0, len(log), 1_500):
        for event in log[start : start + 1_500]:
            mine, theirs = compiled.apply(event), python.apply(event)
            if mine is None or theirs is None:
                assert mine is theirs
            else:
                assert (mine.flagged, mine.baseline) == (theirs.flagged, theirs.baseline)
        same_graph(compiled, python)
        if rng.random() < 0.5:
            compiled.pack()
            python.pack()
            same_graph(compiled, python)
    assert compiled.kernel == "compiled"


def test_a_packed_state_round_trips_and_keeps_deciding_alike() -> None:
    log = churn(4, 8_000, 300, 0.7)
    params = Params(3, 5)
    compiled = Engine(params, kernel="compiled")
    for event in log:
        compiled.apply(event, check=False)
    restored = Engine.from_state(compiled.state(), kernel="compiled")  # packs as it loads
    python = Engine.from_state(compiled.state(), kernel="python")
    same_graph(restored, python)
    assert restored.state().edge_lo == compiled.state().edge_lo
    for event in churn(5, 3_000, 300, 0.5):
        mine, theirs = restored.apply(event), python.apply(event)
        assert (mine is None) == (theirs is None)
        if mine is not None and theirs is not None:
            assert (mine.flagged, mine.baseline) == (theirs.flagged, theirs.baseline)
    same_graph(restored, python)
