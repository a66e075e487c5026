"""The report's tables, built from the numbers one replay collected (:mod:`.report_data`).

Rankings of the busiest and richest seconds, minutes and hours; the flags with
their mean, sd and z-score; flags over time; network sizes. Ordering and
rounding rules: docs/analysis.md.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

from netflag.analysis.common import (
    GRANULARITIES,
    format_timestamp,
    format_units,
    threshold_text,
)
from netflag.analysis.report_data import FlagRecord, ReportData
from netflag.analysis.tables import Cell, Table
from netflag.engine import Params

MAX_BUCKETS = 120  # a time series picks the finest granularity with at most this many


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
