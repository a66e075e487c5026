"""The per-line step that replay and live mode share: one line at a time, outputs in memory."""

from __future__ import annotations

import json
import re

import pytest

from netflag.engine import Engine, Params
from netflag.errors import RejectedLine
from netflag.io.output import rejection_record
from netflag.io.sinks import ListSink
from netflag.runtime.pipeline import Outcome, Pipeline
from netflag.runtime.rejects import Rejection, Rejects

BUY = (
    '{{"event_type":"purchase", "timestamp":"2017-06-13 11:33:0{s}", "id": "{u}", "amount": "{a}"}}'
)
FRIEND = (
    '{{"event_type":"befriend", "timestamp":"2017-06-13 11:33:00", "id1": "{a}", "id2": "{b}"}}'
)
# User 2 (friend of 1 and of 3) bought 10, 10, 30, 30: mean 20, sd 10; 1 buying 50.01 is a flag.
HISTORY = [
    FRIEND.format(a=1, b=2),
    FRIEND.format(a=2, b=3),
    *(BUY.format(s=1, u=2, a=a) for a in ["10", "10", "30", "30"]),
]
SPIKE = BUY.format(s=2, u=1, a="50.01")
EXPECTED_SPIKE = (SPIKE[:-1] + ', "mean": "20.00", "sd": "10.00"}\n').encode()
BAD = b"not json\n"
BAD_REASON = "not valid JSON: Expecting value (column 1)"


class Numbered:
    """A writer that keeps the record numbers too (a ListSink drops numbers it holds)."""

    def __init__(self) -> None:
        self.records: list[tuple[int, bytes]] = []

    def write(self, number: int, line: bytes) -> None:
        self.records.append((number, line))


def engine_after_history() -> Engine:
    engine = Engine(Params.of(1, 4))
    pipeline = Pipeline(engine, Rejects())  # no outputs at all: still a working step
    for number, line in enumerate(HISTORY, start=1):
        pipeline.step(line.encode(), "batch", number)
    return engine


def test_a_bad_line_is_counted_reported_and_dead_lettered_and_nothing_else() -> None:
    flags, dead, seen = ListSink(), ListSink(), []
    pipeline = Pipeline(Engine(Params.of(1, 4)), Rejects(sink=dead, report=seen.append), [flags])
    outcome = pipeline.step(BAD, "stream.json", 7)
    assert outcome == Outcome(reason=BAD_REASON)
    assert not outcome.applied and not outcome.flagged
    assert seen == [Rejection("stream.json", 7, BAD_REASON, BAD)]
    assert str(seen[0]) == f"stream.json:7: {BAD_REASON}"
    assert dead.lines == [rejection_record("stream.json", 7, BAD_REASON, BAD)]
    assert flags.lines == []
    assert pipeline.counts() == {"events": 0, "checked": 0, "flagged": 0, "rejected": 1}


def test_a_source_position_names_itself_and_builds_its_own_dead_letter() -> None:
    """A Redis entry has no line number: ``source`` says where, ``record`` writes the letter."""
    dead, seen = ListSink(), []
    pipeline = Pipeline(Engine(Params.of(1, 4)), Rejects(sink=dead, report=seen.append))
    pipeline.step(BAD, "redis://h/s#1-0", record=lambda reason: f"[{reason}]\n".encode())
    assert str(seen[0]) == f"redis://h/s#1-0: {BAD_REASON}"
    assert dead.lines == [f"[{BAD_REASON}]\n".encode()]


def test_a_flag_goes_to_every_sink_with_its_number() -> None:
    first, second = ListSink("a"), ListSink("b")
    pipeline = Pipeline(engine_after_history(), Rejects(), [first, second])
    friend = pipeline.step(FRIEND.format(a=1, b=4).encode(), "stream.json", 1)
    assert friend == Outcome("befriend")
    outcome = pipeline.step(SPIKE.encode(), "stream.json", 2)
    assert outcome.applied and outcome.flagged
    assert (outcome.kind, outcome.flag, outcome.number) == ("purchase", EXPECTED_SPIKE, 1)
    assert outcome.decision is not None and outcome.decision.flagged
    assert first.lines == second.lines == [EXPECTED_SPIKE]


def test_a_checked_purchase_that_is_not_flagged_writes_nothing() -> None:
    flags = ListSink()
    pipeline = Pipeline(engine_after_history(), Rejects(), [flags])
    outcome = pipeline.step(BUY.format(s=2, u=1, a="25").encode(), "stream.json", 1)
    assert outcome.kind == "purchase" and outcome.decision is not None
    assert not outcome.decision.flagged and outcome.flag is None and outcome.number is None
    assert flags.lines == []


def test_strict_mode_raises_at_the_first_bad_line_before_writing_anything() -> None:
    dead, seen = ListSink(), []
    rejects = Rejects(strict=True, sink=dead, report=seen.append)
    pipeline = Pipeline(Engine(Params.of(1, 4)), rejects, [ListSink()])
    pipeline.step(HISTORY[0].encode(), "stream.json", 1)
    with pytest.raises(RejectedLine, match=re.escape(f"stream.json:2: {BAD_REASON}")) as caught:
        pipeline.step(BAD, "stream.json", 2)
    assert (caught.value.source, caught.value.line) == ("stream.json", 2)
    assert dead.lines == [] and seen == []
    with pytest.raises(RejectedLine, match=re.escape(f"redis://h/s#1-0: {BAD_REASON}")):
        pipeline.step(BAD, "redis://h/s#1-0")


def test_counters_count_every_kind_of_line() -> None:
    lines = [*HISTORY, "{}", SPIKE, "not json", SPIKE]
    pipeline = Pipeline(Engine(Params.of(1, 4)), Rejects())
    for number, line in enumerate(lines, start=1):
        pipeline.step(line.encode(), "stream.json", number)
    # 2 befriends + 6 purchases applied; every purchase is checked, with a baseline or not
    assert pipeline.counts() == {"events": 8, "checked": 6, "flagged": 2, "rejected": 2}
    assert (pipeline.events, pipeline.checked, pipeline.flagged, pipeline.rejected) == (8, 6, 2, 2)


def test_a_resumed_pipeline_numbers_on_from_its_checkpointed_counts() -> None:
    flags, dead = Numbered(), Numbered()
    resumed = Pipeline(
        engine_after_history(),
        Rejects(sink=dead, count=4),
        [flags],
        counts={"events": 10, "checked": 7, "flagged": 3, "rejected": 4},
    )
    resumed.step(SPIKE.encode(), "stream.json", 1)
    resumed.step(BAD, "stream.json", 2)
    assert resumed.counts() == {"events": 11, "checked": 8, "flagged": 4, "rejected": 5}
    assert flags.records == [(4, EXPECTED_SPIKE)]
    assert dead.records == [(5, rejection_record("stream.json", 2, BAD_REASON, BAD))]


def test_actions_and_the_flag_hook_follow_each_flag_with_its_number() -> None:
    flags, actions, heard = ListSink(), Numbered(), []
    pipeline = Pipeline(
        engine_after_history(),
        Rejects(),
        [flags],
        actions=actions,
        max_recommendations=1,
        on_flag=lambda engine, event, decision, raw: heard.append((event.user, raw)),
    )
    pipeline.step(SPIKE.encode(), "stream.json", 1)
    pipeline.step(BUY.format(s=3, u=5, a="1").encode(), "stream.json", 2)  # no network: no flag
    assert heard == [("1", SPIKE.encode())]
    [(number, record)] = actions.records
    assert number == 1
    assert record.startswith(b'{"flagged": ' + EXPECTED_SPIKE.rstrip(b"\n") + b", ")
    action = json.loads(record)
    assert action["feed"] == ["2"]
    assert action["recommendations"] == [{"user": "3", "mutual_friends": ["2"]}]
