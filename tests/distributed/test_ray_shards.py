"""``replay --shards P`` on a real local Ray: shard actors, one process's bytes, clear failures."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from netflag.cli.app import app
from netflag.distributed.ray_pool import describe_failure, worker_pool
from netflag.distributed.sequencer import Sequencer
from netflag.engine.ids import KeyClash
from netflag.errors import WorkerError
from netflag.modes.replay import replay
from netflag.modes.replay.sharded import replay_on_shards
from tests.distributed.cluster import wait_until
from tests.distributed.conftest import random_logs
from tests.modes.live.runs import checkpointed_since, finish, live_args, spawn

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


# --- live mode on shard actors: exactly once through a lost shard and SIGKILLs -------------


@pytest.fixture(scope="module")
def live_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("live")
    batch, stream = random_logs(folder, seed=7, stream_lines=4_000)
    replay(batch, stream, folder / "flags", rejects=folder / "rejects")
    lines = stream.read_bytes().splitlines(keepends=True)
    flags = (folder / "flags").read_bytes()
    assert flags.count(b"\n") > 15
    return {"batch": batch, "stream": stream, "lines": lines, "flags": flags}


def descendants(pid: int) -> list[tuple[int, str]]:
    """Every live process under ``pid``, with its command line."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child in [p for p, pp in parents.items() if pp == parent]:
            try:
                line = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            found.append((child, line.decode(errors="replace")))
            todo.append(child)
    return found


def shard_actors_of(pid: int) -> list[int]:
    return [child for child, line in descendants(pid) if line.startswith("ray::ShardNode")]


def test_live_on_shards_after_sigkills_and_a_lost_shard_writes_each_flag_once(
    live_logs: dict[str, Any], tmp_path: Path
) -> None:
    """The driver SIGKILLed three times, and one shard actor once, while lines arrive;
    each restart resumes from the last checkpoint, and the flags are replay's, each once."""
    followed = tmp_path / "stream.json"
    lines = live_logs["lines"]
    parts = [b"".join(lines[i : i + 700]) for i in range(0, len(lines), 700)]
    assert len(parts) >= 6
    followed.write_bytes(b"")
    args = live_args(live_logs, f"file:{followed}", tmp_path, "--shards", "2")
    log = tmp_path / "state" / "log"
    rng = random.Random(3)

    def feed() -> None:
        with followed.open("ab") as handle:
            handle.write(parts.pop(0))

    for kill in range(4):
        spawned = time.time_ns()
        process = spawn(*args)
        try:
            feed()
            wait_until("a checkpoint", lambda at=spawned: checkpointed_since(log, at), 60)
            time.sleep(rng.uniform(0.0, 0.5))
            assert process.poll() is None, process.communicate()[1]
            shards = wait_until(
                "two shards",
                lambda pid=process.pid: len(found := shard_actors_of(pid)) == 2 and found,
                60,
            )
            if kill != 2:
                family = [pid for pid, _ in descendants(process.pid)]
                process.send_signal(signal.SIGKILL)
                process.communicate()
                # The shards share the driver's fate: none outlives it.
                wait_until("its shards gone", lambda gone=shards: not any(map(alive, gone)), 30)
                for pid in filter(alive, family):  # Ray 2.60's agents do: not ours to leave
                    os.kill(pid, signal.SIGKILL)
            else:
                os.kill(shards[1], signal.SIGKILL)
                feed()  # lines that need the lost shard
                _, stderr = process.communicate(timeout=120)
                assert process.returncode == 2
                # The last line says why it stopped; any before it are rejects of the lines it
                # read meanwhile (each names the stream file): no Ray log line, no traceback.
                *rejects, last = stderr.decode().splitlines()
                assert last.startswith("error: a Ray worker was lost ("), stderr
                assert all(line.startswith(str(followed)) for line in rejects), stderr
        finally:  # a failed check leaves no run behind, nor its Ray
            if process.poll() is None:
                for pid in [pid for pid, _ in descendants(process.pid)] + [process.pid]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                process.communicate()
    while parts:
        feed()
    finish(args)
    assert (tmp_path / "flags.json").read_bytes() == live_logs["flags"]
    assert len(list((tmp_path / "state" / "shards").iterdir())) == 1


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
