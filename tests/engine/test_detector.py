"""The engine against the reference oracle, on every strategy and both kernels."""

from __future__ import annotations

import json
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netflag.devtools.reference import reference_replay
from netflag.engine import Amount, Befriend, Engine, Kernel, Params, Purchase, Unfriend
from netflag.io.events import parse_event
from netflag.modes.replay import replay
from tests.logs import event_logs

STRATEGIES = ["auto", "merge", "scan", "walk"]
KERNELS = ["compiled", "python"]


def run_replay(batch: str, stream: str, k: Fraction, strategy: str, kernel: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "batch.json").write_text(batch)
        (root / "stream.json").write_text(stream)
        replay(root / "batch.json", root / "stream.json", root / "out.json", k=k,
               strategy=strategy, kernel=kernel)  # type: ignore[arg-type]  # fmt: skip
        return (root / "out.json").read_text()


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@given(log=event_logs())
def test_engine_matches_reference(
    strategy: str, kernel: str, log: tuple[str, str, Fraction]
) -> None:
    batch, stream, k = log
    assert run_replay(batch, stream, k, strategy, kernel) == reference_replay(batch, stream, k=k)


def amount(text: str) -> Amount:
    return Amount.from_text(text)


@pytest.mark.parametrize("kernel", KERNELS)
def test_decision_paths_are_reported(kernel: Kernel) -> None:
    for strategy in ("merge", "walk"):
        engine = Engine(Params(2, 5), strategy=strategy, kernel=kernel)  # type: ignore[arg-type]
        engine.apply(Befriend(0, "a", "b"))
        engine.apply(Purchase(0, "b", amount("1")), check=False)
        engine.apply(Purchase(0, "b", amount("2")), check=False)
        decision = engine.apply(Purchase(1, "a", amount("9")))
        assert decision is not None and decision.path == strategy and decision.flagged


def auto_path(D: int, friends: int, others: int, kernel: Kernel, leaves: bool = False) -> str:
    """The path auto picks for a buyer "0" with ``friends`` friends among ``others`` buyers
    (each friend with a friend of their own when ``leaves``)."""
    engine = Engine(Params(D, 5), kernel=kernel)
    for i in range(1, friends + 1):
        engine.apply(Befriend(0, "0", str(i)))
        if leaves:
            engine.apply(Befriend(0, str(i), f"leaf{i}"))
    for i in range(1, friends + others + 1):
        engine.apply(Purchase(0, str(i), amount("1")), check=False)
    decision = engine.apply(Purchase(1, "0", amount("1")))
    assert decision is not None and decision.baseline is not None
    return decision.path


def test_python_auto_picks_by_network_size() -> None:
    # T*U = 5 * 1001: merge below sqrt(T*U)/4 ~ 18 members, walk above 2 sqrt(T*U) ~ 141.
    assert auto_path(D=1, friends=5, others=995, kernel="python") == "merge"
    assert auto_path(D=1, friends=50, others=950, kernel="python") == "scan"
    assert auto_path(D=3, friends=600, others=400, kernel="python") == "walk"


def test_compiled_auto_picks_by_cost() -> None:
    # With s = sqrt(T * users): walk when the ball's next layer may pass 4s + 64 users;
    # else a last layer past 0.1s + 64 is spread as bits and scanned; a listed network
    # scans when 0.25 * T * kept / network's kept < 4 * members + 8 * T, else merges.
    assert auto_path(D=1, friends=5, others=995, kernel="compiled") == "merge"
    assert auto_path(D=1, friends=50, others=950, kernel="compiled") == "scan"
    assert auto_path(D=2, friends=5, others=995, kernel="compiled", leaves=True) == "merge"
    # 1,101 users: the last layer's bound 301 is past 71, under 360: spread, scanned
    assert auto_path(D=2, friends=100, others=900, kernel="compiled", leaves=True) == "scan"
    assert auto_path(D=2, friends=600, others=400, kernel="compiled", leaves=True) == "walk"


@pytest.mark.parametrize("kernel", KERNELS)
def test_finer_scale_arriving_late_rescales_history(kernel: Kernel) -> None:
    engine = Engine(Params(1, 10), kernel=kernel)
    engine.apply(Befriend(0, "a", "b"))
    for text in ["10", "20", "10", "20"]:
        engine.apply(Purchase(0, "b", amount(text)), check=False)
    decision = engine.apply(Purchase(1, "a", amount("30.001")))  # mean 15, sd 5: 30 is a tie
    assert decision is not None and decision.flagged
    assert decision.baseline is not None and decision.baseline.mean_text() == "15.00"
    tie = engine.apply(Purchase(1, "a", amount("30.000")))
    assert tie is not None and not tie.flagged


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("strategy", ["merge", "walk"])
def test_unfriend_reaches_cached_balls(strategy: str, kernel: Kernel) -> None:
    # A path a-b-c-d-e: at D=4, e is in a's network until c-d goes.
    engine = Engine(Params(4, 5), strategy=strategy, kernel=kernel)  # type: ignore[arg-type]
    for x, y in ["ab", "bc", "cd", "de"]:
        engine.apply(Befriend(0, x, y))
    for text in ["1", "1", "1"]:
        engine.apply(Purchase(0, "e", amount(text)), check=False)
    first = engine.apply(Purchase(1, "a", amount("2")))
    assert first is not None and first.flagged
    engine.apply(Unfriend(2, "c", "d"))
    second = engine.apply(Purchase(3, "a", amount("2")))
    assert second is not None and second.baseline is None
    engine.apply(Befriend(4, "b", "e"))
    third = engine.apply(Purchase(5, "a", amount("2")))
    assert third is not None and third.flagged


def decisions(engine: Engine, lines: list[str]) -> list[tuple[bool, str, str] | None]:
    out: list[tuple[bool, str, str] | None] = []
    for line in lines:
        decision = engine.apply(parse_event(line.encode()))
        if decision is None or decision.baseline is None:
            out.append(None)
        else:
            b = decision.baseline
            out.append((decision.flagged, b.mean_text(), b.sd_text()))
    return out


@given(
    log=event_logs(),
    cut=st.integers(0, 40),
    kernels=st.lists(st.sampled_from(KERNELS), min_size=3, max_size=3),
)
def test_state_round_trip_continues_exactly(
    log: tuple[str, str, Fraction], cut: int, kernels: list[Kernel]
) -> None:
    """Any kernel's state continues exactly in any kernel."""
    batch, stream, k = log
    lines = [line for line in batch.splitlines() if line]
    first = json.loads(lines[0])
    params = Params.of(first["D"], first["T"], k)
    stream_lines = [line for line in stream.splitlines() if line]
    straight = Engine(params, kernel=kernels[0])
    for line in lines[1:]:
        straight.apply(parse_event(line.encode()), check=False)
    resumed = Engine.from_state(straight.state(), kernel=kernels[1])
    assert resumed.state() == straight.state()
    head, tail = stream_lines[:cut], stream_lines[cut:]
    assert decisions(straight, head) == decisions(resumed, head)
    again = Engine.from_state(resumed.state(), strategy="walk", kernel=kernels[2])
    assert decisions(straight, tail) == decisions(again, tail)


def test_amounts_beyond_64_bit_units_move_the_engine_to_python_exactly() -> None:
    events = [Befriend(0, "a", "b"), Purchase(0, "b", amount("1.5")), Purchase(0, "b", amount("2"))]
    huge = Purchase(1, "a", amount("123456789012345678.25"))
    compiled, python = (
        Engine(Params(1, 5), kernel="compiled"),
        Engine(Params(1, 5), kernel="python"),
    )
    for engine in (compiled, python):
        for event in events:
            engine.apply(event, check=False)
    assert compiled.kernel == "compiled"
    got, want = compiled.apply(huge), python.apply(huge)
    assert compiled.kernel == "python"
    assert got is not None and want is not None and got.flagged and want.flagged
    assert got.baseline == want.baseline
    after = Purchase(2, "a", amount("0.001"))
    assert compiled.apply(after) == python.apply(after)
    assert compiled.state() == python.state()
