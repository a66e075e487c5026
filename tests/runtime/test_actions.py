"""Feed audience and friend recommendations: ordering on hand-made graphs, the replay hook."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netflag.engine import Amount, Befriend, Engine, Params, Purchase, Unfriend
from netflag.engine.ids import id_order
from netflag.engine.kernels import Kernel
from netflag.modes.replay import replay
from netflag.runtime.actions import ActionWriter, actions_file, feed_audience, recommendations
from tests.small_log import F, P, write_log

KERNELS: list[Kernel] = ["compiled", "python"]


def graph(edges: list[tuple[str, str]], kernel: Kernel | None = None) -> tuple[Engine, int]:
    """An engine holding these friendships, and the buyer's user number."""
    engine = Engine(Params.of(1, 2), kernel=kernel)
    for a, b in edges:
        engine.apply(Befriend(0, a, b), check=False)
    return engine, engine.user_number("buyer") or 0


# buyer's friends: 10, 9, 007; friends of friends: 7 (via 10, 9, 007), u-1 (via 10, 9),
# 20 (via 9, 007), x (via 10), 3 (via 007); 9 - 10 are also friends (distance 1, not 2).
EDGES = [("buyer", "10"), ("buyer", "9"), ("buyer", "007"), ("9", "10")]
EDGES += [("10", "7"), ("9", "7"), ("007", "7"), ("10", "u-1"), ("9", "u-1")]
EDGES += [("9", "20"), ("007", "20"), ("10", "x"), ("007", "3")]


@pytest.mark.parametrize("kernel", KERNELS)
def test_feed_is_the_friends_in_id_order(kernel: Kernel) -> None:
    assert feed_audience(*graph(EDGES, kernel)) == ["007", "9", "10"]


@pytest.mark.parametrize("kernel", KERNELS)
def test_recommendations_rank_by_mutual_friends_then_id(kernel: Kernel) -> None:
    engine, buyer = graph(EDGES, kernel)
    got = recommendations(engine, buyer, 10)
    assert [(r.user, r.mutual_friends) for r in got] == [
        ("7", ("007", "9", "10")),
        ("20", ("007", "9")),  # 2 mutual friends: 20 before u-1 (numbers before other ids)
        ("u-1", ("9", "10")),
        ("3", ("007",)),  # 1 mutual friend: 3 before x
        ("x", ("10",)),
    ]
    assert [r.user for r in recommendations(engine, buyer, 2)] == ["7", "20"]
    assert recommendations(engine, buyer, 0) == []


@pytest.mark.parametrize("kernel", KERNELS)
def test_no_friends_no_audience(kernel: Kernel) -> None:
    engine, _ = graph([("10", "9"), ("buyer", "x"), ("buyer", "x")], kernel)
    engine.apply(Unfriend(0, "buyer", "x"), check=False)
    buyer = engine.user_number("buyer") or 0
    assert feed_audience(engine, buyer) == []
    assert recommendations(engine, buyer, 10) == []


def test_action_line_embeds_the_flagged_line_byte_for_byte() -> None:
    engine = Engine(Params(D=1, T=5))
    for event in [Befriend(0, "1", "2"), Befriend(0, "2", "3"), Befriend(0, "2", "4")]:
        engine.apply(event, check=False)
    for units in ("10", "30"):
        engine.apply(Purchase(0, "2", Amount.from_text(units)), check=False)
    raw = b'{"event_type":"purchase", "timestamp":"2017-06-13 00:00:01", "id": "1", '
    raw += b'"amount": 70.0}\r\n'
    event = Purchase(1, "1", Amount.from_text("70"))
    decision = engine.apply(event)
    assert decision is not None and decision.flagged  # 70 > 20 + 3 x 10
    sink = io.BytesIO()
    hook = ActionWriter(sink, max_recommendations=1)
    hook(engine, event, decision, raw)
    assert sink.getvalue() == (
        b'{"flagged": {"event_type":"purchase", "timestamp":"2017-06-13 00:00:01", "id": "1", '
        b'"amount": 70.0, "mean": "20.00", "sd": "10.00"}, "feed": ["2"], '
        b'"recommendations": [{"user":"3","mutual_friends":["2"]}]}\n'
    )
    assert hook.count == 1


def test_replay_hook_sees_the_graph_at_the_moment_of_each_flag(
    small: tuple[Path, Path], tmp_path: Path
) -> None:
    actions = tmp_path / "actions.jsonl"
    with actions_file(actions, 10) as hook:
        summary = replay(*small, tmp_path / "flagged.json", on_flag=hook)
    assert summary.flagged == 2
    lines = actions.read_text().splitlines()
    flagged = (tmp_path / "flagged.json").read_text().splitlines()
    # each action embeds the flagged output line as written ("amount": 500.00 stays 500.00)
    assert [line.partition(', "feed"')[0] for line in lines] == [
        '{"flagged": ' + f for f in flagged
    ]
    records = [json.loads(line) for line in lines]
    assert [r["flagged"]["id"] for r in records] == ["1", "2"]
    # line 1: path 1-2-3-4: 1's feed is 2, 3 is at distance 2 through 2
    assert (records[0]["feed"], records[0]["recommendations"]) == (
        ["2"],
        [{"user": "3", "mutual_friends": ["2"]}],
    )
    # line 5, after 1-4 closed the square: 2's friends 1 and 3; 4 is reached through both
    assert (records[1]["feed"], records[1]["recommendations"]) == (
        ["1", "3"],
        [{"user": "4", "mutual_friends": ["1", "3"]}],
    )


def test_actions_file_only_on_success(tmp_path: Path) -> None:
    with actions_file(None) as nothing:
        assert nothing is None
    target = tmp_path / "actions.jsonl"
    with pytest.raises(RuntimeError), actions_file(target) as hook:
        assert hook is not None
        raise RuntimeError("the replay failed")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_recommendation_limit_on_a_star(tmp_path: Path) -> None:
    # buyer 0 befriends hub 1; the hub has friends 2..13: 12 candidates with 1 mutual friend each
    batch = ['{"D":"1", "T":"2"}', P.format(t="00:00:00", u=1, a='"1"')]
    batch += [P.format(t="00:00:00", u=1, a='"3"')]
    batch += [F.format(t="00:00:00", a=1, b=n) for n in range(14) if n != 1]
    stream = [P.format(t="00:00:01", u=0, a='"99"')]
    actions = tmp_path / "a.jsonl"
    with actions_file(actions, 10) as hook:
        replay(
            write_log(tmp_path / "b.json", batch),
            write_log(tmp_path / "s.json", stream),
            tmp_path / "o.json",
            on_flag=hook,
        )
    (record,) = [json.loads(line) for line in actions.read_text().splitlines()]
    assert record["feed"] == ["1"]
    assert [r["user"] for r in record["recommendations"]] == [str(n) for n in range(2, 12)]


IDS = ["b", "10", "9", "007", "7", "u-1", "x", "20", "3", "07", "1", "a", "2", "é", "Z", "0"]


@pytest.mark.parametrize("kernel", KERNELS)
@given(
    edges=st.lists(st.tuples(st.integers(0, 15), st.integers(0, 15)), max_size=70),
    limit=st.integers(0, 8),
)
def test_the_cores_rank_as_a_full_sort_of_every_candidate(
    kernel: Kernel, edges: list[tuple[int, int]], limit: int
) -> None:
    """Both cores' feeds and recommendations equal a plain reference, for every user."""
    engine = Engine(Params.of(1, 2), kernel=kernel)
    adj: dict[str, set[str]] = {}
    for a, b in edges:
        if a != b:
            engine.apply(Befriend(0, IDS[a], IDS[b]), check=False)
            adj.setdefault(IDS[a], set()).add(IDS[b])
            adj.setdefault(IDS[b], set()).add(IDS[a])
    for buyer, friends in adj.items():
        through: dict[str, list[str]] = {}
        for friend in friends:
            for candidate in adj[friend] - friends - {buyer}:
                through.setdefault(candidate, []).append(friend)
        full = sorted(through.items(), key=lambda c: (-len(c[1]), id_order(c[0])))
        expected = [(c, tuple(sorted(mutual, key=id_order))) for c, mutual in full[:limit]]
        number = engine.user_number(buyer)
        assert number is not None
        got = recommendations(engine, number, limit)
        assert [(r.user, r.mutual_friends) for r in got] == expected
        assert feed_audience(engine, number) == sorted(friends, key=id_order)
