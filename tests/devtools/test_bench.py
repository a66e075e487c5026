"""``netflag bench --quick`` runs every workload end to end (figures are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from netflag.cli import app


def test_quick_bench_produces_every_row_and_curve(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["bench", "--quick", "--repeat", "1", "--data", str(tmp_path / "data"), "--out", str(out)],
    )
    assert result.exit_code == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    rows = {row["workload"].split(",")[0]: row for row in results["rows"]}
    names = list(rows)
    assert names[:2] == ["parse floor (orjson per line)", "netflag replay end to end"]
    assert names[2:6] == [f"checks D={d} T=50" for d in (1, 2, 3, 4)]
    assert names[6].startswith("snapshot load") and rows[names[6]]["seconds"] > 0
    assert names[7:9] == ["start-up: netflag --help (process CPU time)",
                          "start-up: netflag replay"]  # fmt: skip
    assert "identical output" in rows["reference engine (BFS+sort+Fraction)"]["note"]
    assert "events/s" in rows["live: Redis stream -> file + Redis sinks"]["note"]
    single = rows["serve: 1-event POSTs"]
    assert single["checks_per_second"] > 0 and single["p99_ms"] > 0 and "p50" in single["note"]
    assert rows["serve: NDJSON POSTs of 1"]["checks_per_second"] > 0
    assert (out / "results.md").read_text().count("\n| ") == 1 + len(rows)  # header + rows
    assert rows["netflag replay end to end"]["floor_ratio"] > 0
    # Every target row says what it is held to and whether it holds.
    targets = [row for row in rows.values() if row["target"]]
    assert len(targets) == 10 and all(row["met"] in (True, False) for row in targets)
    assert "compiled core" in result.stdout
    assert set(results["curves"]) == {"D", "T", "users"}
    assert all(rate > 0 for points in results["curves"].values() for _, rate in points)
    assert (out / "scaling.png").read_bytes().startswith(b"\x89PNG")
    assert "checks/s by D" in result.stdout
