"""The report's numbers: one replay that also tallies every purchase, then tables.

"When does the shop earn most" counts every purchase, batch and stream;
"what was flagged" is exactly what replay flags (the engine decides, this
module only records). Ordering and rounding rules: docs/analysis.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import chain
from typing import TYPE_CHECKING, Any

from netflag.analysis.common import (
    GRANULARITIES,
    ZScore,
    format_timestamp,
    format_units,
    threshold_text,
)
from netflag.analysis.logs import Logs, Step
from netflag.analysis.tables import Cell, Table
from netflag.engine import Amount, Baseline, Engine, Event, Params, Purchase

if TYPE_CHECKING:
    from netflag.distributed.ray_pool import WorkerPool

MAX_BUCKETS = 120  # a time series picks the finest granularity with at most this many


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
        from netflag.distributed.fanout import Fanout

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


def _totals(data: ReportData, granularity: str) -> tuple[dict[int, list[int]], int]:
    """bucket start (seconds) -> [purchases, total units], and the common scale."""
    width = GRANULARITIES[granularity]
    scale = max((s for sums in data.units.values() for s in sums), default=0)
    out: dict[int, list[int]] = {}
    for second, count in data.purchases.items():
        row = out.setdefault(second - second % width, [0, 0])
        row[0] += count
        row[1] += sum(u * 10 ** (scale - s) for s, u in data.units[second].items())
    return out, scale


def series_granularity(seconds: list[int]) -> str:
    """The finest granularity that shows the span of ``seconds`` in <= MAX_BUCKETS buckets."""
    if not seconds:
        return "second"
    low, high = min(seconds), max(seconds)
    for name, width in GRANULARITIES.items():
        if high // width - low // width < MAX_BUCKETS:
            return name
    return "hour"


def ranking_tables(data: ReportData, top: int) -> list[Table]:
    """Timestamps ranked by purchases and by total amount, per second, minute and hour.

    Ties keep time order (earlier first); ``top`` rows each (0: all).
    """
    by_count: list[Table] = []
    by_amount: list[Table] = []
    for granularity in GRANULARITIES:
        totals, scale = _totals(data, granularity)
        for column, out in ((0, by_count), (1, by_amount)):
            ranked = sorted(totals.items(), key=lambda kv: (-kv[1][column], kv[0]))
            rows: list[tuple[Cell, ...]] = [
                (rank, format_timestamp(start, granularity), n, format_units(units, scale))
                for rank, (start, (n, units)) in enumerate(ranked[: top or None], 1)
            ]
            kind, what = ("count", "purchases") if column == 0 else ("amount", "total amount")
            out.append(
                Table(
                    f"{kind}_by_{granularity}",
                    f"Busiest {granularity}s by {what}",
                    ("rank", granularity, "purchases", "total"),
                    rows,
                )
            )
    return by_count + by_amount


def _flag_cells(flag: FlagRecord, params: Params) -> tuple[str, str, str, str, str]:
    b = flag.baseline
    amount = format_units(flag.amount.units, flag.amount.scale)
    return amount, b.mean_text(), b.sd_text(), threshold_text(b, params.k), flag.z.text()


def _z_descending(flag: FlagRecord) -> tuple[int, Fraction]:
    category, value = flag.z.sort_key()
    return (-category, -value)


def flag_tables(data: ReportData, top: int) -> list[Table]:
    """Flags by timestamp (z-score descending within one second) and the top anomalies."""
    columns = ("amount", "mean", "sd", "threshold", "z_score")
    by_time = sorted(data.flags, key=lambda f: (f.timestamp, _z_descending(f), f.line))
    by_z = sorted(data.flags, key=lambda f: (_z_descending(f), f.line))[: top or None]
    return [
        Table(
            "flags",
            "Flagged purchases by timestamp",
            ("timestamp", "line", "user", *columns, "network"),
            [
                (
                    format_timestamp(f.timestamp),
                    f.line,
                    f.user,
                    *_flag_cells(f, data.params),
                    f.network,
                )
                for f in by_time
            ],
        ),
        Table(
            "top_anomalies",
            "Top anomalies by z-score",
            ("rank", "z_score", "line", "timestamp", "user", *columns[:-1]),
            [
                (
                    rank,
                    f.z.text(),
                    f.line,
                    format_timestamp(f.timestamp),
                    f.user,
                    *_flag_cells(f, data.params)[:-1],
                )
                for rank, f in enumerate(by_z, 1)
            ],
        ),
    ]


def series_tables(data: ReportData) -> list[Table]:
    """Flags over time (stream), amount over time (all purchases), network sizes."""
    out: list[Table] = []
    granularity = series_granularity(list(data.checked))
    width = GRANULARITIES[granularity]
    flagged: dict[int, int] = defaultdict(int)
    for flag in data.flags:
        flagged[flag.timestamp - flag.timestamp % width] += 1
    checked: dict[int, int] = defaultdict(int)
    for second, n in data.checked.items():
        checked[second - second % width] += n
    out.append(
        Table(
            "flags_over_time",
            f"Checked and flagged stream purchases per {granularity}",
            (granularity, "checked", "flagged"),
            [(format_timestamp(s, granularity), checked[s], flagged[s]) for s in sorted(checked)],
        )
    )
    granularity = series_granularity(list(data.purchases))
    totals, scale = _totals(data, granularity)
    out.append(
        Table(
            "amount_over_time",
            f"Purchases and total amount per {granularity} (batch and stream)",
            (granularity, "purchases", "total"),
            [
                (format_timestamp(s, granularity), n, format_units(units, scale))
                for s, (n, units) in sorted(totals.items())
            ],
        )
    )
    out.append(network_table(data))
    return out


def size_bin(size: int) -> int:
    """0 for an empty network, else i such that 2**(i-1) <= size < 2**i."""
    return size.bit_length()


def network_table(data: ReportData) -> Table:
    """Checked and flagged purchases by the buyer's network size, in power-of-two bins.

    Bins run from the smallest non-empty one to the largest: 0, 1, 2-3, 4-7, ...
    """
    bins: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for size, (checked, flagged) in data.networks.items():
        row = bins[size_bin(size)]
        row[0] += checked
        row[1] += flagged
    rows: list[tuple[Cell, ...]] = []
    for i in range(min(bins, default=0), max(bins, default=-1) + 1):
        low, high = (0, 0) if i == 0 else (1 << (i - 1), (1 << i) - 1)
        label = str(low) if low == high else f"{low}-{high}"
        rows.append((label, low, high, bins[i][0], bins[i][1]))
    return Table(
        "network_sizes",
        f"Stream purchases by the buyer's network size (D={data.params.D})",
        ("network", "low", "high", "checked", "flagged"),
        rows,
    )


def report_tables(data: ReportData, top: int = 10) -> list[Table]:
    """Every table of the report, in a fixed order; ``top`` limits rankings (0: all)."""
    return ranking_tables(data, top) + flag_tables(data, top) + series_tables(data)
