"""Live mode on Ray workers: replay's bytes, exactly-once checkpoints, a dying worker, Redis.

One local Ray with 2 CPUs for the module; the log is random, with churn,
ties, late timestamps and bad lines; every check compares with replay.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis

from netflag.devtools.servers import RedisServer
from netflag.distributed.ray_pool import worker_pool
from netflag.errors import WorkerError
from netflag.io.output import AtomicFile
from netflag.io.sinks import FileSink, open_sink
from netflag.io.sources import FileSource, open_source
from netflag.modes.live import Live, LiveOptions, LiveOutputs
from netflag.modes.replay import replay
from netflag.runtime.actions import ActionWriter
from tests.distributed.conftest import random_logs


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A random log and replay's flags, rejects and actions (3 recommendations)."""
    folder = tmp_path_factory.mktemp("logs")
    batch, stream = random_logs(folder, seed=7, stream_lines=3_000)
    out, rejects, actions = folder / "flags", folder / "rejects", folder / "actions"
    with AtomicFile(actions) as sink:
        replay(batch, stream, out, rejects=rejects, on_flag=ActionWriter(sink, 3))
    expected = {"flags": out.read_bytes(), "rejects": rejects.read_bytes()}
    assert expected["flags"].count(b"\n") > 20 and expected["rejects"]
    return {"batch": batch, "stream": stream, "actions": actions.read_bytes(), **expected}


def outputs(work: Path) -> LiveOutputs:
    return LiveOutputs(
        [FileSink(str(work / "flags"))],
        rejects=FileSink(str(work / "rejects")),
        actions=FileSink(str(work / "actions")),
    )


def assert_replays_bytes(work: Path, logs: dict[str, Any]) -> None:
    for name in ("flags", "rejects", "actions"):
        assert (work / name).read_bytes() == logs[name], name


def test_live_on_workers_resumes_in_steps_with_replays_bytes(
    local_ray: ModuleType, logs: dict[str, Any], tmp_path: Path
) -> None:
    rng = random.Random(5)
    runs = 0
    with worker_pool(2) as pool:
        while True:
            options = LiveOptions(
                state=tmp_path / "state",
                max_recommendations=3,
                checkpoint_every=rng.randint(50, 700),
                workers=pool,
            )
            live = Live(logs["batch"], FileSource(str(logs["stream"])), outputs(tmp_path), options)
            summary = live.run(max_events=rng.randint(300, 1_500), idle_timeout=0.05)
            runs += 1
            if summary.handled == 0:
                break
    assert runs >= 3
    assert_replays_bytes(tmp_path, logs)


def test_a_dying_worker_stops_live_mode_and_a_restart_resumes_exactly(
    local_ray: ModuleType, logs: dict[str, Any], tmp_path: Path
) -> None:
    options = LiveOptions(state=tmp_path / "state", max_recommendations=3, checkpoint_every=400)
    with worker_pool(2) as pool:

        def kill_one(number: int, actors: list[Any]) -> None:
            if number == 3:
                local_ray.kill(actors[0])

        pool.on_chunk = kill_one
        first = Live(
            logs["batch"],
            FileSource(str(logs["stream"])),
            outputs(tmp_path),
            replace(options, workers=pool),
        )
        with pytest.raises(WorkerError):
            first.run(idle_timeout=0.05)
        pool.on_chunk = None
        assert (tmp_path / "flags").read_bytes() != logs["flags"]  # it stopped part way
        again = Live(
            logs["batch"],
            FileSource(str(logs["stream"])),
            outputs(tmp_path),
            replace(options, workers=pool),
        )
        summary = again.run(idle_timeout=0.05)
    assert 0 < summary.handled < 3_000  # resumed from a checkpoint, not from the start
    assert_replays_bytes(tmp_path, logs)


def test_live_on_workers_reads_a_redis_stream(
    local_ray: ModuleType, logs: dict[str, Any], tmp_path: Path, redis_server: RedisServer
) -> None:
    client = redis.Redis(port=redis_server.port)
    for line in logs["stream"].read_bytes().splitlines():
        client.xadd("events", {"event": line})
    with worker_pool(3) as pool:
        live = Live(
            logs["batch"],
            open_source(redis_server.url("events")),
            LiveOutputs([FileSink(str(tmp_path / "flags")), open_sink(redis_server.url("flags"))]),
            LiveOptions(state=tmp_path / "state", workers=pool),
        )
        summary = live.run(idle_timeout=0.5)
    assert summary.handled == 3_000
    assert (tmp_path / "flags").read_bytes() == logs["flags"]
    flagged = [fields[b"line"] + b"\n" for _, fields in client.xrange("flags")]
    assert b"".join(flagged) == logs["flags"]
    assert client.xpending("events", "netflag")["pending"] == 0
    client.close()
