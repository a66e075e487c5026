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
    names = [row["workload"] for row in results["rows"]]
    assert names[0].startswith("parse floor") and names[1].startswith("netflag replay")
    assert [n.split(",")[0] for n in names[2:6]] == [f"checks D={d} T=50" for d in (1, 2, 3, 4)]
    assert "identical output" in results["rows"][6]["note"]
    assert results["rows"][7]["workload"].startswith("live:")
    assert "events/s" in results["rows"][7]["note"]
    assert (out / "results.md").read_text().count("\n| ") == 1 + 8  # header + rows
    assert results["rows"][1]["floor_ratio"] > 0
    assert set(results["curves"]) == {"D", "T", "users"}
    assert all(rate > 0 for points in results["curves"].values() for _, rate in points)
    assert (out / "scaling.png").read_bytes().startswith(b"\x89PNG")
    assert "checks/s by D" in result.stdout
