"""The compiled core under long runs: late arrivals, evictions and index compaction.

The hypothesis properties (test_detector.py) use short logs, too short to fill
the compiled core's side array or to trigger its compaction; these runs do both
and compare every decision with the pure-Python core.
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
    ("seed", "D", "strategy"), [(1, 1, "auto"), (2, 2, "scan"), (3, 3, "walk"), (4, 5, "auto")]
)
def test_long_churned_runs_match_the_python_core(seed: int, D: int, strategy: str) -> None:
    log = churned_log(seed, 14_000, users=40)
    params = Params(D, 3)
    compiled = Engine(params, strategy=strategy, kernel="compiled")  # type: ignore[arg-type]
    python = Engine(params, strategy=strategy, kernel="python")  # type: ignore[arg-type]
    assert verdicts(compiled, log) == verdicts(python, log)
    assert compiled.kernel == "compiled"
    assert compiled.state() == python.state()
