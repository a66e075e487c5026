"""``replay --shards P`` on a real local Ray: shard actors, one process's bytes, clear failures."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from netflag.cli.app import app
from netflag.distributed.ray_pool import describe_failure, worker_pool
from netflag.distributed.sequencer import Sequencer
from netflag.engine.shard import KeyClash
from netflag.errors import WorkerError
from netflag.modes.replay import replay
from netflag.modes.replay.sharded import replay_on_shards
from tests.distributed.conftest import random_logs

runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def test_replay_on_shard_actors_writes_one_process_bytes_and_stats(
    local_ray: ModuleType, tmp_path: Path
) -> None:
    batch, stream = random_logs(tmp_path, 5, stream_lines=3_000)
    one = replay(batch, stream, tmp_path / "one")
    for shards in (1, 3):
        out, stats = tmp_path / f"out-{shards}", tmp_path / f"stats-{shards}.json"
        done = invoke("replay", batch, stream, out, "--shards", shards, "--stats", stats)
        assert done.exit_code == 0, done.output
        assert out.read_bytes() == (tmp_path / "one").read_bytes()
        assert f"{one.flagged:,} flagged" in done.output
        figures = json.loads(stats.read_text())
        pids = {shard["pid"] for shard in figures["shards"]}
        assert len(pids) == shards and os.getpid() not in pids  # each shard its own actor
        assert figures["ray"] and figures["checks"] == one.checked
        assert figures["driver_peak_rss_bytes"] > 0
        assert all(shard["peak_rss_bytes"] > 0 for shard in figures["shards"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--shards", "2", "--workers", "2"], "--workers and --shards cannot be combined"),
        (["--stats", "s.json"], "--stats needs --shards P"),
        (["--shards", "2", "--actions", "a.json"], "--actions is not available with --shards"),
        (["--ray", "127.0.0.1:1"], "--ray needs --workers N or --shards P"),
    ],
)
def test_options_that_do_not_go_together_are_one_line(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    batch, stream = random_logs(tmp_path, 1, stream_lines=10)
    done = invoke("replay", batch, stream, tmp_path / "out", *extra)
    assert done.exit_code == 2
    assert done.output.startswith("error: ") and message in done.output
    assert done.output.count("\n") == 1 and not (tmp_path / "out").exists()


def test_a_shard_lost_mid_stream_stops_the_run_with_no_output(
    local_ray: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch, stream = random_logs(tmp_path, 6, stream_lines=2_000)
    submit = Sequencer._submit

    def kill_after_three(self: Sequencer) -> None:
        if self.epochs == 3:
            local_ray.kill(self.nodes.actors[1], no_restart=True)  # type: ignore[attr-defined]
        submit(self)

    monkeypatch.setattr(Sequencer, "_submit", kill_after_three)
    with worker_pool(2) as pool, pytest.raises(WorkerError, match="a Ray worker was lost"):
        replay_on_shards(batch, stream, tmp_path / "out", 2, pool=pool, epoch=100)
    assert not (tmp_path / "out").exists()


def test_a_users_error_on_an_actor_comes_back_as_itself(local_ray: ModuleType) -> None:
    clash = KeyClash("user ids 'a' and 'b' hash to one key")
    wrapped = local_ray.exceptions.RayTaskError("ShardNode.load", "Traceback ...", clash)
    assert describe_failure(wrapped) is clash
    other = local_ray.exceptions.RayTaskError("ShardNode.decide", "Traceback ...", IndexError("x"))
    assert str(describe_failure(other)) == "a Ray worker failed (IndexError): x"
