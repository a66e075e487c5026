"""Rich tables (and JSON) for the analysis commands: presentation only, no decisions."""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Console
from rich.table import Table as RichTable

from netflag.analysis.explain import Explanation
from netflag.analysis.sweep import SweepResult
from netflag.analysis.tables import Table
from netflag.engine.money import decimal_text
from netflag.io.counts import count

TERMINAL_ROWS = 50  # per report table; a terminal is for reading, files are for all


def _console() -> Console:
    # Wide enough for timestamps and ids when stdout is a file or a pipe.
    return Console(highlight=False, width=None if Console().is_terminal else 120)


def print_explanation(found: Explanation) -> None:
    """The decision, the network per distance and the baseline purchases."""
    console = _console()
    facts = found.to_json()
    head = RichTable(title="Decision", show_header=False)
    head.add_column(style="bold")
    head.add_column()
    where = f"stream line {found.line}, {found.timestamp}" if found.line else "after the log"
    rows = [
        ("purchase", f"user {found.user} buys {facts['amount']} ({where})"),
        ("parameters", f"D={facts['D']} T={facts['T']} k={facts['k']}"),
        ("network", f"{count(facts['network_size'], 'user')} within distance {facts['D']}"),
        ("baseline", count(facts["n"], "purchase")),
        ("mean", facts["mean"] or "-"),
        ("sd", facts["sd"] or "-"),
        ("threshold", facts["threshold"] or "-"),
        ("z-score", facts["z_score"] or "-"),
        ("decision", facts["reason"]),
    ]
    for name, value in rows:
        head.add_row(name, str(value))
    console.print(head)
    layers = RichTable(title="Network by distance")
    layers.add_column("distance", justify="right")
    layers.add_column("users", justify="right")
    for entry in facts["network"]:
        layers.add_row(str(entry["distance"]), f"{entry['users']:,}")
    console.print(layers)
    if not found.baseline:
        return
    baseline = RichTable(title="Baseline purchases, newest first")
    for column in ("#", "user", "timestamp", "amount"):
        baseline.add_column(column, justify="left" if column == "timestamp" else "right")
    for rank, purchase in enumerate(found.baseline, 1):
        baseline.add_row(str(rank), purchase.user, purchase.timestamp, purchase.amount)
    console.print(baseline)


def print_tables(tables: list[Table], max_rows: int = TERMINAL_ROWS) -> None:
    """Each report table as a rich table, cut at ``max_rows`` (--json and --out hold all)."""
    console = _console()
    for table in tables:
        more = len(table.rows) - max_rows
        shown = RichTable(
            title=table.title,
            caption=f"{count(more, 'more row')} with --json or --out" if more > 0 else None,
        )
        for column in table.columns:
            shown.add_column(column, justify="right")
        for row in table.rows[:max_rows]:
            shown.add_row(*(str(cell) for cell in row))
        console.print(shown)


def _sweep_records(result: SweepResult) -> list[dict[str, Any]]:
    return [
        {
            "D": row.setting.D,
            "T": row.setting.T,
            "k": decimal_text(row.setting.k),
            "flags": row.flags,
            "overlap": row.overlap,
            "added": row.added,
            "missed": row.missed,
            "default": row.is_default,
        }
        for row in result.rows()
    ]


def sweep_json(result: SweepResult) -> bytes:
    """The sweep as JSON: the default setting, then one record per setting."""
    default = result.default
    body = {
        "checked": result.checked,
        "default": {
            "D": default.D,
            "T": default.T,
            "k": decimal_text(default.k),
            "flags": len(result.flags[default]),
        },
        "settings": _sweep_records(result),
    }
    return orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"


def print_sweep(result: SweepResult) -> None:
    """One row per setting; the default's row is marked."""
    default = result.default
    table = RichTable(
        title=f"Flags per setting ({count(result.checked, 'stream purchase')} checked)",
        caption=f"default: D={default.D} T={default.T} k={decimal_text(default.k)}, "
        f"{count(len(result.flags[default]), 'flag')}",
    )
    for column in ("D", "T", "k", "flags", "overlap", "added", "missed", ""):
        table.add_column(column, justify="right")
    for record in _sweep_records(result):
        table.add_row(
            *(str(record[c]) for c in ("D", "T", "k")),
            *(f"{record[c]:,}" for c in ("flags", "overlap", "added", "missed")),
            "default" if record["default"] else "",
            style="bold" if record["default"] else None,
        )
    console = _console()
    console.print(table)
    console.print(
        "overlap: flags shared with the default; added: flags only here; "
        "missed: the default's flags not raised here"
    )
