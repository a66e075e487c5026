"""The simulation's results as people read them (markdown tables) and as data (CSV)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path

from netflag.devtools.shardsim.counting import Row
from netflag.devtools.shardsim.sizing import Sizing


def sizing_markdown(sizes: Sequence[Sizing]) -> str:
    """The sizing as a markdown table."""
    lines = [
        "| users | partition | D | purchases/s | machines (P) | CPU µs/check | cores |"
        " Gbit/s | busiest machine: cores | busiest: Gbit/s | state GiB/machine | latency ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for z in sizes:
        machines = str(z.P) if z.fits else f"~{z.P:,} (extrapolated)"
        cells = [
            f"{z.users:,}",
            z.partition,
            str(z.D),
            f"{z.rate:,}",
            machines,
            _fmt(z.cpu_us),
            _fmt(z.cores),
            _fmt(z.gbit),
            _fmt(z.busiest_cores),
            _fmt(z.busiest_gbit),
            _fmt(z.state_gib),
            _fmt(z.latency_ms),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


COLUMNS = [
    ("users", "users"),
    ("partition", "partition"),
    ("P", "P"),
    ("D", "D"),
    ("edge_cut", "edge cut"),
    ("members", "members"),
    ("entries_read", "entries read"),
    ("shards_touched", "shards touched"),
    ("bfs_messages", "BFS msgs"),
    ("ids_sent", "ids sent"),
    ("bfs_bytes", "BFS bytes"),
    ("gather_messages", "gather msgs"),
    ("gather_bytes", "gather bytes"),
    ("bytes_per_check", "bytes/check"),
    ("bytes_p99", "p99 bytes"),
    ("imbalance", "max/mean shard"),
]


def markdown(rows: Sequence[Row]) -> str:
    """The rows as a markdown table (means per check)."""
    head = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    align = "|" + "|".join("---" if key == "partition" else "---:" for key, _ in COLUMNS) + "|"
    lines = [head, align]
    for row in rows:
        cells = []
        for key, _ in COLUMNS:
            value = getattr(row, key)
            if key == "users":
                cells.append(f"{value:,}")
            elif isinstance(value, float):
                cells.append(_fmt(value))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: Sequence[Row], path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[f.name for f in fields(Row)])
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))
