"""Replay and live mode on a disk that fills up: one line, a non-zero exit, nothing half
written; live mode then resumes, once there is room, to the same flags as replay."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netflag.devtools.generate import GenerateSummary, Preset, generate
from tests.small_disk import SmallDisk

NETFLAG = [sys.executable, "-m", "netflag"]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> GenerateSummary:
    folder = tmp_path_factory.mktemp("disk-full-logs")
    return generate(folder, Preset(users=200, batch_lines=2_000, stream_lines=3_000), seed=5)


def netflag(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NETFLAG, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_replay_onto_a_full_disk_fails_in_one_line_and_leaves_nothing(
    made: GenerateSummary, small_disk: SmallDisk
) -> None:
    out = small_disk.path / "flagged_purchases.json"
    small_disk.fill(leave=4096)  # the flags take more than that
    run = netflag("replay", made.batch_path, made.stream_path, out, "-q")
    assert run.returncode == 2
    assert run.stderr == f"error: cannot write {out}: No space left on device\n"
    assert sorted(small_disk.path.iterdir()) == [small_disk.ballast]


def test_live_on_a_full_disk_stops_in_one_line_then_resumes_to_replays_flags(
    made: GenerateSummary, small_disk: SmallDisk, tmp_path: Path
) -> None:
    state, flags = small_disk.path / "state", small_disk.path / "flags.json"
    live = ("live", made.batch_path, f"file:{made.stream_path}", "--sink", f"file:{flags}",
            "--state", state, "--checkpoint-every", "100", "--snapshot-every", "500",
            "--idle-timeout", "0.5", "-q")  # fmt: skip
    small_disk.fill(leave=150_000)  # room for the first snapshot and some log, not all
    stopped = netflag(*live)
    assert stopped.returncode == 2
    assert stopped.stderr.startswith(f"error: cannot write {small_disk.path}/")
    assert stopped.stderr.endswith(": No space left on device\n")
    assert stopped.stderr.count("\n") == 1
    assert not list(state.glob(".*.tmp"))
    small_disk.empty()
    resumed = netflag(*live)
    assert resumed.returncode == 0, resumed.stderr
    expected = tmp_path / "replay.json"
    assert netflag("replay", made.batch_path, made.stream_path, expected, "-q").returncode == 0
    assert flags.read_bytes() == expected.read_bytes()
