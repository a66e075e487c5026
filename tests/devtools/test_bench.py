"""``netflag bench --quick`` runs every workload end to end (figures are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netflag.cli import app
from netflag.devtools.bench.plot import plot_curves, read_curves
from netflag.devtools.bench.suite import QUICK, Suite
from netflag.devtools.shardsim.measured import measured_costs
from netflag.errors import NetflagError


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


def test_an_earlier_run_is_drawn_beside_this_one(tmp_path: Path) -> None:
    earlier = tmp_path / "results.json"
    earlier.write_text(json.dumps({"rows": [], "curves": {"users": [[1000, 5.0], [10000, 2.0]]}}))
    before = read_curves(earlier)
    assert before == {"users": [(1000, 5.0), (10000, 2.0)]}
    plot_curves({"users": [(1000, 10.0), (10000, 3.0)]}, tmp_path / "s.png", "here", before)
    assert (tmp_path / "s.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        ("{not json", "is not the results.json"),
        ('{"rows": []}', "is not the results.json"),
        ('{"curves": {"users": [[1]]}}', "is not the results.json"),
    ],
)
def test_a_bad_before_file_is_refused_before_any_work(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    earlier = tmp_path / "results.json"
    if content is not None:
        earlier.write_text(content)
    with pytest.raises(NetflagError, match=reason):
        read_curves(earlier)
    args = ["bench", "--quick", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, [*args, "--before", str(earlier)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and reason in result.stderr
    assert not (tmp_path / "d").exists()  # refused before generating anything


def test_before_without_curves_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--no-curves", "--before", str(tmp_path / "r")])
    assert result.exit_code == 2 and "drop --no-curves" in result.stderr


def test_shard_rows_keep_their_stats_to_price_a_cluster(tmp_path: Path) -> None:
    out = tmp_path / "out"
    suite = Suite(tmp_path / "data", QUICK, 1, lambda line: None)
    suite.shards((1, 2), out)
    rows = [(row.workload.split(",")[0], row) for row in suite.results.rows]
    assert [name for name, _ in rows] == [
        "replay",
        "replay --shards 1",
        "replay --shards 2",
    ]
    for _, row in rows[1:]:
        assert row.events > 0 and row.checks_per_second > 0 and "same flags" in row.note
    assert rows[0][1].events == rows[1][1].events  # the checks one process made too
    one, two = (json.loads((out / f"shards-{p}.json").read_text()) for p in (1, 2))
    costs = measured_costs(one, two)
    assert min(costs.entry_ns, costs.read_ns, costs.check_us, costs.gathered_ns) > 0
