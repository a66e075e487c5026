"""The compiled core under long runs: late arrivals, evictions and index compaction.

The hypothesis properties (test_detector.py) use short logs, too short to fill
the compiled core's side array or to trigger its compaction; these runs do both
(the first by evictions, the last by late arrivals) and compare every decision
with the pure-Python core.
"""

from __future__ import annotations

import random

import pytest

from netflag.engine import Amount, Befriend, Engine, Event, Params, Purchase, Unfriend


def churned_log(seed: int, events: int, users: int) -> list[Event]:
    """Purchases with timestamps from a narrow window (most arrive late), friendships churning."""
    rng = random.Random(seed)
    out: list[Event] = []
    for _ in range(events):
        roll = rng.random()
        a, b = rng.sample(range(users), 2)
        when = rng.randrange(50)
        if roll < 0.8:
            amount = Amount.from_text(f"{rng.randrange(1, 10_000)}.{rng.randrange(100):02d}")
            out.append(Purchase(when, str(a), amount))
        elif roll < 0.93:
            out.append(Befriend(when, str(a), str(b)))
        else:
            out.append(Unfriend(when, str(a), str(b)))
    return out


def verdicts(engine: Engine, log: list[Event]) -> list[tuple[bool, int, int, int] | None]:
    out: list[tuple[bool, int, int, int] | None] = []
    for event in log:
        decision = engine.apply(event)
        b = decision.baseline if decision is not None else None
        out.append(None if decision is None or b is None else (decision.flagged, b.n, b.s1, b.s2))
    return out


@pytest.mark.parametrize(
    ("seed", "D", "strategy", "events", "users", "T"),
    [
        (1, 1, "auto", 14_000, 40, 3),  # evictions: the index is compacted every ~1,100
        (2, 2, "scan", 14_000, 40, 3),
        (3, 3, "walk", 14_000, 40, 3),
        (4, 5, "auto", 14_000, 40, 3),
        (5, 3, "auto", 40_000, 3_000, 20),  # few evictions: the side array fills and merges
    ],
)
def test_long_churned_runs_match_the_python_core(
    seed: int, D: int, strategy: str, events: int, users: int, T: int
) -> None:
    log = churned_log(seed, events, users)
    params = Params(D, T)
    compiled = Engine(params, strategy=strategy, kernel="compiled")  # type: ignore[arg-type]
    python = Engine(params, strategy=strategy, kernel="python")  # type: ignore[arg-type]
    assert verdicts(compiled, log) == verdicts(python, log)
    assert compiled.kernel == "compiled"
    assert compiled.state() == python.state()


@pytest.mark.parametrize("kernel", ["compiled", "python"])
def test_a_self_friendship_is_refused_by_the_core(kernel: str) -> None:
    """The parser rejects such lines; a library caller gets an error, not a broken state."""
    engine = Engine(Params(1, 2), kernel=kernel)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="themselves"):
        engine.apply(Befriend(0, "c", "c"))
    assert engine.state().edges == []


def test_searches_of_every_kind_interleaved_match_the_python_core() -> None:
    """The compiled searches share their marks (bits, cleared word by word) and queue:
    checks, rings, newest_of, recommendations and common friends in any order, users
    added meanwhile, each as the Python core answers it."""
    log = churned_log(6, 6_000, 300)
    rng = random.Random(6)
    compiled = Engine(Params(3, 4), kernel="compiled")
    python = Engine(Params(3, 4), kernel="python")
    for step, event in enumerate(log):
        assert verdicts(compiled, [event]) == verdicts(python, [event]), step
        if step % 5 == 0 and compiled.users > 1:
            user = rng.randrange(compiled.users)
            rings = compiled.rings(user, rng.randrange(1, 5))
            assert rings == python.rings(user, len(rings)), step
            members = rng.sample(range(compiled.users), min(compiled.users, 20))
            count = rng.randrange(1, 8)
            assert compiled.newest_of(members, count) == python.newest_of(members, count)
            assert compiled.recommend(user, 3) == python.recommend(user, 3), step
            other = rng.randrange(compiled.users)
            assert compiled.common_friends(user, other) == python.common_friends(user, other)
