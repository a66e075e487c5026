"""``--ray ADDRESS`` against a real two-node cluster on this machine, token authentication on.

One cluster for the module (``cluster.py``): a head and a second node, each its
own ``ray start --block`` with one CPU, so ``--workers 2`` puts a worker on
each, as the GCS's actor table shows. Every run is the real CLI in a process of
its own; its output must be one process's, byte for byte, and its stderr
netflag's own lines only. Then the failures: a node and netflag without the
token, and the second node killed in the middle of a live run (which a restart
resumes, on the node started again) and of a replay, last: nothing needs the
node after it.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from netflag.modes.replay import replay
from tests.distributed.cluster import Cluster, netflag, session_pids, wait_until, without_seconds
from tests.distributed.conftest import BAD_LINES, random_logs

AUTH_FIX = "set RAY_AUTH_MODE=token with the cluster's token in"
LOST = "error: a Ray worker was lost ("
SWEEP = ["--D", "1..3", "--T", "2,5", "--k", "0,2.5,3"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """The head and the second node for the module; stopped by PID, nothing of them left."""
    made = Cluster()
    try:
        made.start()
        yield made
    finally:
        made.close()
    assert not made.nodes


@pytest.fixture
def both(cluster: Cluster) -> Cluster:
    """The cluster with its two nodes up: a test before may have killed the second."""
    if "second" not in cluster.nodes:
        cluster.start_node("second")
    assert cluster.alive_nodes() == 2
    return cluster


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A clean random log over many chunks (stderr then holds no reject lines), and what one
    process makes of it: replay's flags and summary, sweep's table."""
    folder = tmp_path_factory.mktemp("logs")
    batch, stream = random_logs(folder, seed=11, stream_lines=16_000)
    for path in (batch, stream):
        kept = [line for line in path.read_text().splitlines() if line not in BAD_LINES]
        path.write_text("".join(f"{line}\n" for line in kept))
    alone = netflag("replay", str(batch), str(stream), str(folder / "flags"))
    assert alone.returncode == 0, alone.stderr
    sweep = netflag("sweep", str(batch), str(stream), *SWEEP)
    assert sweep.returncode == 0, sweep.stderr
    lines = stream.read_bytes().splitlines(keepends=True)
    flags = (folder / "flags").read_bytes()
    assert flags.count(b"\n") > 200 and len(lines) > 4 * 2_000  # flags, and many chunks
    return {
        "batch": batch, "stream": stream, "lines": lines, "flags": flags,
        "replay_stderr": alone.stderr, "sweep": sweep.stdout, "folder": folder,
    }  # fmt: skip


def workers_since(cluster: Cluster, seen: set[str]) -> dict[str, str]:
    """The Worker actors the GCS knows and ``seen`` does not: actor id -> node id."""
    actors = {
        actor["id"]: actor["node"]
        for actor in cluster.state()["actors"]
        if actor["class"] == "Worker"
    }
    return {actor: node for actor, node in actors.items() if actor not in seen}


def assert_on_both_nodes(cluster: Cluster, workers: dict[str, str]) -> None:
    assert len(workers) == 2
    assert sorted(workers.values()) == sorted(node.id for node in cluster.nodes.values())


def test_replay_sweep_and_live_on_two_nodes_write_one_process_bytes(
    both: Cluster, logs: dict[str, Any], tmp_path: Path
) -> None:
    batch, stream = str(logs["batch"]), str(logs["stream"])
    on = ["--workers", "2", "--ray", both.address]
    seen = set(workers_since(both, set()))

    def ran_on_both_nodes() -> None:
        new = workers_since(both, seen)
        assert_on_both_nodes(both, new)
        seen.update(new)

    # The token as Ray reads it: RAY_AUTH_MODE=token, RAY_AUTH_TOKEN_PATH.
    done = netflag("replay", batch, stream, str(tmp_path / "flags"), *on, env=both.env())
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "flags").read_bytes() == logs["flags"]
    assert without_seconds(done.stderr) == without_seconds(logs["replay_stderr"])  # one line
    ran_on_both_nodes()

    # The token as netflag's option, with none of Ray's variables set.
    bare, token = both.env(token=False, mode=False), ["--ray-token-file", str(both.token)]
    done = netflag("sweep", batch, stream, *SWEEP, *on, *token, env=bare)
    assert done.returncode == 0, done.stderr
    assert done.stdout == logs["sweep"]
    assert done.stderr.startswith("netflag: ") and done.stderr.count("\n") == 1
    ran_on_both_nodes()

    state, sink = str(tmp_path / "state"), str(tmp_path / "live-flags")
    live = ["live", batch, stream, "--state", state, "--sink", sink, "--idle-timeout", "0.5"]
    done = netflag(*live, "-q", *on, env=both.env())
    assert done.returncode == 0, done.stderr
    assert Path(sink).read_bytes() == logs["flags"]
    assert done.stderr == ""
    ran_on_both_nodes()


def test_replay_on_two_shards_one_a_node_writes_one_process_bytes(
    both: Cluster, logs: dict[str, Any], tmp_path: Path
) -> None:
    """``--shards 2`` across the two nodes: each shard actor on its own raylet, each
    loading its half of the users from the batch, the output one process's."""
    before = {actor["id"] for actor in both.state()["actors"]}
    out, stats = tmp_path / "flags", tmp_path / "stats.json"
    on = ["--shards", "2", "--ray", both.address, "--stats", str(stats)]
    done = netflag("replay", str(logs["batch"]), str(logs["stream"]), str(out), *on, env=both.env())
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == logs["flags"]
    assert without_seconds(done.stderr) == without_seconds(logs["replay_stderr"])
    shards = {
        actor["id"]: actor["node"]
        for actor in both.state()["actors"]
        if actor["id"] not in before and actor["class"] == "ShardNode"
    }
    assert_on_both_nodes(both, shards)
    figures = json.loads(stats.read_text())
    pids = {actor["pid"] for actor in both.state()["actors"] if actor["id"] in shards}
    assert {shard["pid"] for shard in figures["shards"]} == pids
    assert figures["ray"] and figures["per_check"]["messages"] > 0


def test_a_node_without_ray_auth_mode_cannot_join(both: Cluster) -> None:
    """What docs/scaling.md warns of: each node needs RAY_AUTH_MODE=token, not only the token.

    RAY_gcs_server_port_wait_time_s=1 has Ray try once instead of 20 times, a second apart.
    """
    env = both.env(mode=False, RAY_gcs_server_port_wait_time_s="1")
    joiner = both.spawn_joiner("tokenless", env)
    assert joiner.process.wait(timeout=120) != 0
    assert "InvalidAuthToken" in joiner.log.read_text()
    assert both.alive_nodes() == 2
    assert not session_pids(joiner.pid)


def test_netflag_without_the_token_fails_at_once_in_one_line(
    both: Cluster, logs: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "flags"
    replay_on = ["replay", str(logs["batch"]), str(logs["stream"]), str(out), "--workers", "2"]
    where = f"error: cannot join the Ray cluster at {both.address} (--ray): "
    cases = [
        (both.env(mode=False), [], f"it requires a token (Ray token authentication); {AUTH_FIX}"),
        (both.env(token=False), [], "RAY_AUTH_MODE=token but no token was found: put the"),
        (both.env(RAY_AUTH_TOKEN="0" * 64), [], "it refused the token from RAY_AUTH_TOKEN; use"),
    ]
    wrong = tmp_path / "wrong-token"
    wrong.write_text("1" * 64)
    refused = f"it refused the token from --ray-token-file {wrong}; use the head's token"
    cases.append((both.env(token=False, mode=False), ["--ray-token-file", str(wrong)], refused))
    for env, extra, reason in cases:
        done = netflag(*replay_on, "--ray", both.address, *extra, env=env, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(where + reason), done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
        assert not out.exists()
    # -v lets Ray's own lines through: one failed try, not twenty, then netflag's line.
    live = ["live", str(logs["batch"]), str(logs["stream"]), "--state", str(tmp_path / "state")]
    done = netflag(*live, "-v", "--workers", "2", "--ray", both.address, env=both.env(mode=False))
    assert done.returncode == 2
    *ray_lines, last = done.stderr.splitlines()
    assert last.startswith(where + "it requires a token")
    assert sum("Unauthenticated" in line for line in ray_lines) == 1, done.stderr


def start_cli(
    args: list[str], env: dict[str, str], stderr: IO[bytes], stdin: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """The real CLI, started and not waited for; ``stdin`` PIPE: unbuffered, see :func:`feed`."""
    command = [sys.executable, "-m", "netflag", *args]
    return subprocess.Popen(command, env=env, stdin=stdin, stderr=stderr, bufsize=0)


def feed(pipe: IO[bytes], data: bytes) -> None:
    """Write all of ``data`` to an unbuffered pipe, which may take it in parts."""
    view = memoryview(data)
    while view:
        view = view[pipe.write(view) or 0 :]


def alive_workers_on_both_nodes(cluster: Cluster, seen: set[str]) -> bool:
    actors = [
        actor
        for actor in cluster.state()["actors"]
        if actor["id"] not in seen and actor["class"] == "Worker"
    ]
    alive = {actor["id"]: actor["node"] for actor in actors if actor["state"] == "ALIVE"}
    if len(alive) < 2:
        return False
    assert_on_both_nodes(cluster, alive)
    return True


def test_live_stops_when_a_node_goes_away_and_a_restart_resumes_from_its_checkpoint(
    both: Cluster, logs: dict[str, Any], tmp_path: Path
) -> None:
    lines, part = logs["lines"], 6_000
    (tmp_path / "head").write_bytes(b"".join(lines[:part]))
    replay(logs["batch"], tmp_path / "head", tmp_path / "head-flags")
    flags_so_far = (tmp_path / "head-flags").read_bytes()
    assert flags_so_far and logs["flags"].startswith(flags_so_far)
    stream, sink, err = tmp_path / "stream", tmp_path / "flags", tmp_path / "stderr"
    stream.write_bytes(b"".join(lines[:part]))
    state = tmp_path / "state"
    # fmt: off
    live = [
        "live", str(logs["batch"]), str(stream), "--state", str(state), "--sink", str(sink),
        "--checkpoint-every", "1000", "--workers", "2", "--ray", both.address,
    ]
    # fmt: on
    seen = set(workers_since(both, set()))
    with err.open("wb") as stderr:
        run = start_cli([*live, "-q", "--idle-timeout", "120"], both.env(), stderr)
        wait_until(
            "the first part's flags",
            lambda: sink.exists() and sink.read_bytes() == flags_so_far,
            60,
        )
        assert alive_workers_on_both_nodes(both, seen)
        both.kill("second")
        with stream.open("ab") as more:
            more.write(b"".join(lines[part:]))
        assert run.wait(timeout=120) == 2
    message = err.read_text()
    assert message.startswith(LOST) and message.count("\n") == 1, message

    both.start_node("second")
    seen |= set(workers_since(both, seen))
    again = netflag(*live, "--idle-timeout", "1", env=both.env())
    assert again.returncode == 0, again.stderr
    assert sink.read_bytes() == logs["flags"]
    handled = re.search(r"this process: ([\d,]+) lines?", again.stderr)
    assert handled is not None, again.stderr
    # It resumed from a checkpoint: one was written every 1,000 lines of the first part.
    assert 0 < int(handled.group(1).replace(",", "")) <= len(lines) - 1_000
    assert_on_both_nodes(both, workers_since(both, seen))


def test_replay_stops_in_one_line_with_no_output_when_a_node_goes_away(
    both: Cluster, logs: dict[str, Any], tmp_path: Path
) -> None:
    """The stream comes on stdin, so the run waits, mid-stream, while the node is killed."""
    out, err = tmp_path / "flags", tmp_path / "stderr"
    seen = set(workers_since(both, set()))
    args = ["replay", str(logs["batch"]), "/dev/stdin", str(out), "--no-progress"]
    with err.open("wb") as stderr:
        on = ["--workers", "2", "--ray", both.address]
        run = start_cli([*args, *on], both.env(), stderr, subprocess.PIPE)
        assert run.stdin is not None
        half = len(logs["lines"]) // 2
        feed(run.stdin, b"".join(logs["lines"][:half]))  # far more than a pipe holds: it reads
        wait_until("two workers", lambda: alive_workers_on_both_nodes(both, seen), 60)
        both.kill("second")
        with contextlib.suppress(BrokenPipeError):  # it may stop before reading the rest
            feed(run.stdin, b"".join(logs["lines"][half:]))
        run.stdin.close()  # unbuffered: nothing left to flush into a broken pipe
        assert run.wait(timeout=120) == 2
    message = err.read_text()
    assert message.startswith(LOST) and message.count("\n") == 1, message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["stderr"]  # no OUT, no temp
