"""The report's numbers: one replay that also tallies every purchase, then tables.

"When does the shop earn most" counts every purchase, batch and stream;
"what was flagged" is exactly what replay flags (the engine decides, this
module only records). Ordering and rounding rules: docs/analysis.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from netflag.analysis.common import (
    ZScore,
)
from netflag.analysis.logs import Logs, Step
from netflag.distributed.fanout import Fanout
from netflag.distributed.ray_pool import WorkerPool
from netflag.engine import Amount, Baseline, Engine, Event, Params, Purchase


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """A flagged stream purchase with the exact numbers behind it."""

    line: int
    timestamp: int
    user: str
    amount: Amount
    baseline: Baseline
    z: ZScore
    network: int


@dataclass(slots=True)
class ReportData:
    """What one pass over the logs collected."""

    params: Params
    # every purchase, batch and stream: second -> count, and second -> {scale: units}
    purchases: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    units: dict[int, dict[int, int]] = field(default_factory=dict)
    checked: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # second -> n
    flags: list[FlagRecord] = field(default_factory=list)
    # network size of each checked purchase -> [checked, flagged]
    networks: dict[int, list[int]] = field(default_factory=dict)

    @property
    def flagged(self) -> int:
        return len(self.flags)

    @property
    def checked_total(self) -> int:
        return sum(self.checked.values())


def collect(logs: Logs, workers: WorkerPool | None = None) -> ReportData:
    """Replay ``logs`` (as ``netflag replay`` does) and keep what the tables need.

    With ``workers`` the stream's purchases are decided on Ray workers (each
    returns its checks' network sizes and baselines); the tables are the same.
    """
    engine = logs.engine()
    data = ReportData(engine.params)
    progress = [0, 0]  # stream line, checks: what the bar shows

    def stream_steps() -> Iterator[Step]:
        """Tally every purchase; apply the batch; hand on the stream."""
        for step in logs.steps():
            event = step.event
            if isinstance(event, Purchase):
                data.purchases[event.timestamp] += 1
                sums = data.units.setdefault(event.timestamp, {})
                sums[event.amount.scale] = sums.get(event.amount.scale, 0) + event.amount.units
            if not step.stream:
                engine.apply(event, check=False)
                continue
            progress[0] = step.line
            logs.tick(step.line, progress[1], len(data.flags))
            yield step

    if workers is None:
        for step in stream_steps():
            event = step.event
            decision = engine.apply(event)
            if decision is None or not isinstance(event, Purchase):
                continue
            user = engine.user_number(event.user)
            assert user is not None  # noqa: S101 - apply() just interned the buyer
            _record(data, step, engine.network_size(user), decision.flagged, decision.baseline)
            progress[1] += 1
    else:
        steps = stream_steps()
        first = next(steps, None)  # the batch is applied by now: the workers start from here
        fanout = Fanout(workers, engine, ChecksTask())
        try:
            lines = ((step, step.raw) for step in chain([first] if first else [], steps))
            for step, (_, size, flagged, baseline) in fanout.map(lines):
                _record(data, step, size, flagged, baseline)
                progress[1] += 1
        finally:
            fanout.close()
    logs.tick(progress[0], progress[1], len(data.flags), last=True)
    return data


class ChecksTask:
    """The report's work on Ray workers: every check's network size, verdict and baseline."""

    def decider(self, engine: Engine) -> _Checks:
        return _Checks(engine)


class _Checks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def apply(self, event: Event) -> None:
        self.engine.apply(event, check=False)

    def check(self, at: int, event: Purchase, raw: bytes) -> tuple[Any, ...]:
        engine = self.engine
        decision = engine.apply(event)
        user = engine.user_number(event.user)
        if decision is None or user is None:
            raise RuntimeError("a checked purchase has a decision and a buyer")
        return (at, engine.network_size(user), decision.flagged, decision.baseline)


def _record(
    data: ReportData, step: Step, size: int, flagged: bool, baseline: Baseline | None
) -> None:
    """One checked stream purchase: its second, its network size, and its flag if any."""
    event = step.event
    assert isinstance(event, Purchase)  # noqa: S101 - only purchases are checked
    data.checked[event.timestamp] += 1
    data.networks.setdefault(size, [0, 0])[0] += 1
    if flagged and baseline is not None:
        data.networks[size][1] += 1
        z = ZScore.of(baseline, event.amount.at_scale(baseline.scale))
        data.flags.append(
            FlagRecord(step.line, event.timestamp, event.user, event.amount, baseline, z, size)
        )
