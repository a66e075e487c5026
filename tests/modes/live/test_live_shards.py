"""Live mode on shard nodes in this process: replay's bytes, in steps, through shard snapshots.

The shards' exactly-once machinery without Ray (the Ray actors, a dying one and
SIGKILLs are in ``tests/distributed/test_ray_shards.py``): every run stops
after a random number of lines, checkpoints and snapshots come often, and
the restart must pick up where the last checkpoint left off.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from netflag.errors import CheckpointError
from netflag.io.sinks import FileSink
from netflag.io.sources import FileSource
from netflag.modes.live import Live, LiveOptions, LiveOutputs
from netflag.modes.replay import replay
from tests.distributed.conftest import random_logs


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("logs")
    batch, stream = random_logs(folder, seed=9, stream_lines=3_000)
    replay(batch, stream, folder / "flags", rejects=folder / "rejects")
    flags, rejects = (folder / "flags").read_bytes(), (folder / "rejects").read_bytes()
    assert flags.count(b"\n") > 20 and rejects
    return {"batch": batch, "stream": stream, "flags": flags, "rejects": rejects}


def live(logs: dict[str, Any], work: Path, options: LiveOptions) -> Live:
    outputs = LiveOutputs([FileSink(str(work / "flags"))], rejects=FileSink(str(work / "rejects")))
    return Live(logs["batch"], FileSource(str(logs["stream"])), outputs, options)


@pytest.mark.parametrize("shards", [1, 3])
def test_live_on_shards_resumes_in_steps_with_replays_bytes(
    logs: dict[str, Any], tmp_path: Path, shards: int
) -> None:
    rng = random.Random(shards)
    runs = 0
    while True:
        options = LiveOptions(
            state=tmp_path / "state",
            checkpoint_every=rng.randint(50, 400),
            snapshot_every=rng.randint(100, 900),
            shards=shards,
        )
        summary = live(logs, tmp_path, options).run(
            max_events=rng.randint(200, 900), idle_timeout=0.05
        )
        runs += 1
        if summary.handled == 0:
            break
    assert runs >= 4
    assert (tmp_path / "flags").read_bytes() == logs["flags"]
    assert (tmp_path / "rejects").read_bytes() == logs["rejects"]
    folders = list((tmp_path / "state" / "shards").iterdir())
    assert len(folders) == 1 and len(list(folders[0].iterdir())) == shards  # older ones gone


def test_a_state_checkpointed_on_shards_is_refused_elsewhere(
    logs: dict[str, Any], tmp_path: Path
) -> None:
    options = LiveOptions(state=tmp_path / "state", shards=2)
    live(logs, tmp_path, options).run(max_events=500, idle_timeout=0.05)
    with pytest.raises(CheckpointError, match="checkpointed with --shards 2: run so again"):
        live(logs, tmp_path, replace(options, shards=None)).run(idle_timeout=0.05)
    with pytest.raises(CheckpointError, match="holds 2 shards, not 3: run with --shards 2"):
        live(logs, tmp_path, replace(options, shards=3)).run(idle_timeout=0.05)
    folder = next((tmp_path / "state" / "shards").iterdir())
    saved = folder / "shard-1.npz"
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 1
    saved.write_bytes(data)
    with pytest.raises(CheckpointError, match="shard-1.npz: not the shard state its checkpoint"):
        live(logs, tmp_path, options).run(idle_timeout=0.05)
