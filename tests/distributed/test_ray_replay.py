"""Replay, report and sweep on Ray workers: the bytes of one process, at 1, 2 and 3 workers.

All tests share one local Ray with 2 CPUs (3 workers then share them); the
logs are random, with churn, ties, late timestamps, odd amounts and bad lines.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from netflag.analysis.logs import open_logs
from netflag.analysis.sweep import Setting, grid, sweep
from netflag.cli import app
from netflag.distributed.ray_pool import RAY_MISSING, worker_pool
from netflag.errors import RejectedLine, WorkerError
from netflag.io.output import AtomicFile
from netflag.modes.replay import replay
from netflag.runtime.actions import ActionWriter
from netflag.runtime.rejects import Rejects
from tests.distributed.conftest import random_logs

SEEDS = range(6)


def run(batch: Path, stream: Path, out: Path, pool: Any = None, **options: Any) -> dict[str, Any]:
    """Replay with flags, rejects and actions files; everything a user could compare."""
    rejects, actions = out.with_suffix(".rejects"), out.with_suffix(".actions")
    reports: list[str] = []
    with AtomicFile(actions) as sink:
        summary = replay(
            batch, stream, out, rejects=rejects, on_reject=lambda r: reports.append(str(r)),
            on_flag=ActionWriter(sink, 3), workers=pool, **options,
        )  # fmt: skip
    return {
        "flags": out.read_bytes(),
        "rejects": rejects.read_bytes(),
        "actions": actions.read_bytes(),
        "reports": reports,
        "counts": (summary.events, summary.checked, summary.flagged, summary.rejected),
    }


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path, dict[str, Any]]]:
    """Random logs (one long enough for many chunks) and what one process makes of them."""
    folder = tmp_path_factory.mktemp("logs")
    made = []
    for seed in SEEDS:
        batch, stream = random_logs(folder, seed, stream_lines=9_000 if seed == 0 else 1_500)
        made.append((batch, stream, run(batch, stream, folder / f"one-{seed}.json")))
    assert sum(expected["counts"][2] for _, _, expected in made) > 50, "too few flags to compare"
    assert all(expected["counts"][3] for _, _, expected in made), "every log has bad lines"
    return made


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_replay_on_workers_writes_one_process_bytes(
    local_ray: ModuleType, logs: list[Any], tmp_path: Path, workers: int
) -> None:
    with worker_pool(workers) as pool:
        for n, (batch, stream, expected) in enumerate(logs):
            assert run(batch, stream, tmp_path / f"many-{n}.json", pool) == expected


def test_cli_replay_with_workers_matches_without(
    local_ray: ModuleType, logs: list[Any], tmp_path: Path
) -> None:
    batch, stream, expected = logs[0]
    runner = CliRunner()
    outcome = runner.invoke(
        app, ["replay", str(batch), str(stream), str(tmp_path / "out.json"), "--workers", "2"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "out.json").read_bytes() == expected["flags"]
    assert f"{expected['counts'][2]:,} flagged" in outcome.output


def test_strict_stops_at_the_same_line_with_no_output(
    local_ray: ModuleType, logs: list[Any], tmp_path: Path
) -> None:
    batch, stream, _ = logs[1]
    with pytest.raises(RejectedLine) as alone:
        replay(batch, stream, tmp_path / "one.json", strict=True)
    with worker_pool(2) as pool, pytest.raises(RejectedLine) as sharded:
        replay(batch, stream, tmp_path / "many.json", strict=True, workers=pool)
    assert str(sharded.value) == str(alone.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_worker_that_dies_fails_the_run_cleanly(
    local_ray: ModuleType, logs: list[Any], tmp_path: Path
) -> None:
    batch, stream, _ = logs[0]  # 9,000 lines: five chunks
    out = tmp_path / "out.json"
    with worker_pool(2) as pool:

        def kill_one(number: int, actors: list[Any]) -> None:
            if number == 2:
                local_ray.kill(actors[1])

        pool.on_chunk = kill_one
        with pytest.raises(WorkerError) as failed:
            replay(batch, stream, out, rejects=tmp_path / "rejects.json", workers=pool)
        pool.on_chunk = None
        # the pool goes on with fresh actors
        assert replay(batch, stream, out, workers=pool).flagged == logs[0][2]["counts"][2]
    assert "\n" not in str(failed.value) and "worker" in str(failed.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no partial file


def test_errors_are_one_line(
    local_ray: ModuleType, logs: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch, stream, _ = logs[1]
    runner = CliRunner()
    base = ["replay", str(batch), str(stream), str(tmp_path / "out.json")]
    for extra, message in [
        (["--workers", "2", "--ray", "127.0.0.1:1"], "cannot reach the Ray cluster at 127.0.0.1:1"),
        (["--ray", "auto"], "--ray needs --workers N"),
    ]:
        outcome = runner.invoke(app, base + extra)
        assert outcome.exit_code == 2
        assert outcome.output.startswith(f"error: {message}") and outcome.output.count("\n") == 1
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    outcome = runner.invoke(app, [*base, "--workers", "2"])
    assert (outcome.exit_code, outcome.output) == (2, f"error: {RAY_MISSING}\n")
    assert not (tmp_path / "out.json").exists()


def test_report_and_sweep_on_workers_match_one_process(
    local_ray: ModuleType, logs: list[Any]
) -> None:
    batch, stream, _ = logs[0]
    runner = CliRunner()
    commands = [
        ["report", str(batch), str(stream), "--json", "--top", "0"],
        ["sweep", str(batch), str(stream), "--D", "1..3", "--T", "2,5", "--k", "0,1,2.5", "--json"],
    ]
    for command in commands:
        alone = runner.invoke(app, command)
        assert alone.exit_code == 0, alone.output
        expected = orjson.loads(alone.stdout)
        for workers in ("1", "3"):
            sharded = runner.invoke(app, [*command, "--workers", workers])
            assert sharded.exit_code == 0, sharded.output
            assert orjson.loads(sharded.stdout) == expected
    assert sum(setting["flags"] for setting in expected["settings"]) > 20


@pytest.mark.parametrize("walk_above", [0, None])
def test_sweep_flags_on_workers_are_one_process_flags(
    local_ray: ModuleType, logs: list[Any], walk_above: int | None
) -> None:
    """Every setting's flagged lines and exact baselines, both ways of finding the newest."""
    settings = grid([1, 2, 4], [2, 3, 8], [Fraction(0), Fraction(5, 2)])
    default = Setting(2, 3, Fraction(3))
    with worker_pool(2) as pool:
        for batch, stream, _ in logs[:3]:
            found = [
                sweep(open_logs(batch, stream, Rejects()), settings, default,
                      walk_above=walk_above, workers=workers).flags
                for workers in (None, pool)
            ]  # fmt: skip
            assert found[0] == found[1]
            assert sum(map(len, found[0].values())) > 0
