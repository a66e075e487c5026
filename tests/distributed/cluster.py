"""A real two-node Ray cluster on this machine: a head and a second node, token auth on.

Each node is its own ``ray start --block`` process (own raylet, object store
and temp dir, one CPU, a small object store), in a session of its own, so it
is stopped by its PID and every process it started is found by that session
(``ray stop``, which would stop other people's Ray, is never needed). The
head gets a token file (RAY_AUTH_TOKEN_PATH) and no RAY_AUTH_MODE: Ray 2.60
then turns token authentication on by itself, as on a machine where
``~/.ray/auth_token`` exists. HOME is a folder of the cluster's, so nobody's
real token is read or written. Ray's GCS and raylets listen on every
interface (Ray has no switch for that); the token keeps strangers out.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netflag.devtools.servers import free_port
from tests import paths

RAY = Path(sys.executable).parent / "ray"
OBJECT_STORE_BYTES = 100 * 1024 * 1024  # Ray's floor is 75 MiB
START_SECONDS = 90.0  # bounds a node's start: a hang becomes a failure
STOP_SECONDS = 30.0
STATE = "tests.distributed.gcs_state"
# The GCS counts a node dead after 3 failed health checks a second apart, not Ray's 5 x 3 s:
# a killed node is then soon out of the scheduler's sight (and of the tests' count).
HEALTH_CHECKS = {
    "RAY_health_check_period_ms": "1000",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}
SHORT_TMP = "/tmp" if Path("/tmp").is_dir() else None


@dataclass
class Node:
    """One ``ray start --block`` process; its session id is its PID."""

    name: str
    process: subprocess.Popen[bytes]
    temp_dir: Path
    log: Path
    id: str = ""  # the GCS's node id, once it is alive

    @property
    def pid(self) -> int:
        return self.process.pid


def plain_env() -> dict[str, str]:
    """This process's environment without Ray's variables; netflag and the tests importable
    from this tree (src/ first, whatever the venv's editable install points at)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RAY_")}
    env["PYTHONPATH"] = os.pathsep.join([str(paths.ROOT / "src"), str(paths.ROOT)])
    return env


def session_pids(sid: int) -> list[int]:
    """Every live process of session ``sid`` (a node's ``ray start`` and all it spawned)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(entry.name))
    return found


def wait_until(what: str, test: Any, seconds: float) -> Any:
    """Poll ``test()`` until it is truthy; ``seconds`` only turn a hang into a failure."""
    deadline = time.monotonic() + seconds
    while True:
        value = test()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.1)


class Cluster:
    """``start()`` the head and the second node, ``close()`` stops both and removes its folder."""

    def __init__(self) -> None:
        # Short on purpose: a node's sockets live below its temp dir, and a Unix socket's
        # path may not exceed 107 bytes (pytest's tmp_path is too deep).
        self.root = Path(tempfile.mkdtemp(prefix="nfray-", dir=SHORT_TMP))
        self.home = self.root / "home"
        self.home.mkdir()
        self.token = self.root / "token"
        self.token.write_text(secrets.token_hex(32))
        self.token.chmod(0o600)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: dict[str, Node] = {}
        self._starts = 0
        self._killed: set[str] = set()  # ids of killed nodes the GCS may still count alive

    def env(self, *, token: bool = True, mode: bool = True, **extra: str) -> dict[str, str]:
        """The environment for a node or for netflag: nothing Ray-ish from outside.

        ``token``: RAY_AUTH_TOKEN_PATH names the cluster's token; ``mode``:
        RAY_AUTH_MODE=token, which a joining node and netflag need.
        """
        env = plain_env()
        env.update(HOME=str(self.home), RAY_USAGE_STATS_ENABLED="0")
        if token:
            env["RAY_AUTH_TOKEN_PATH"] = str(self.token)
        if mode:
            env["RAY_AUTH_MODE"] = "token"
        env.update(extra)
        return env

    def start(self) -> None:
        self.start_node("head")
        self.start_node("second")

    def start_node(self, name: str) -> Node:
        """Start ``head`` or a node that joins it, and wait until the GCS counts it alive."""
        self._settle()
        self._starts += 1
        env = self.env(mode=name != "head")
        if name == "head":
            env.update(HEALTH_CHECKS)
        node = self._spawn(name, env)
        self.nodes[name] = node
        node.id = wait_until(f"{name} alive", lambda: self._alive_id(node), START_SECONDS)
        return node

    def spawn_joiner(self, name: str, env: dict[str, str]) -> Node:
        """A node that tries to join with ``env`` (and is not waited for)."""
        self._starts += 1
        return self._spawn(name, env)

    def _spawn(self, name: str, env: dict[str, str]) -> Node:
        temp_dir = self.root / f"{name}-{self._starts}"
        temp_dir.mkdir()
        log = self.root / f"{name}-{self._starts}.log"
        role = ["--head", "--port", str(self.port), "--include-dashboard", "false"]
        if name != "head":
            role = ["--address", self.address]
        # fmt: off
        command = [
            str(RAY), "start", "--block", *role, "--num-cpus", "1",
            "--object-store-memory", str(OBJECT_STORE_BYTES),
            "--node-ip-address", "127.0.0.1", "--temp-dir", str(temp_dir),
        ]
        # fmt: on
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        return Node(name, process, temp_dir, log)

    def state(self) -> dict[str, Any]:
        """The GCS's nodes and Worker actors, read in a process of its own."""
        done = subprocess.run(
            [sys.executable, "-m", STATE, self.address],
            env=self.env(),
            capture_output=True,
            timeout=60,
            check=True,
        )
        found: dict[str, Any] = json.loads(done.stdout)
        return found

    def _alive_id(self, node: Node) -> str | None:
        """The GCS's id for ``node`` once it counts it alive (known by its temp dir)."""
        if node.process.poll() is not None:
            raise AssertionError(f"{node.name} exited: see {node.log}")
        folder = str(node.temp_dir) + os.sep
        for found in self.state()["nodes"]:
            if found["alive"] and found["socket"].startswith(folder):
                return str(found["id"])
        return None

    def alive_nodes(self) -> int:
        return sum(node["alive"] for node in self.state()["nodes"])

    def kill(self, name: str) -> None:
        """SIGKILL the node's ``ray start`` and its process group (raylet, object store)."""
        node = self.nodes.pop(name)
        os.killpg(node.pid, signal.SIGKILL)
        node.process.wait(timeout=STOP_SECONDS)
        self._killed.add(node.id)
        self._reap(node)

    def _settle(self) -> None:
        """Wait until the GCS counts every killed node dead (a few health checks)."""
        if not self._killed:
            return

        def settled() -> bool:
            alive = {node["id"] for node in self.state()["nodes"] if node["alive"]}
            return not alive & self._killed

        wait_until("killed nodes counted dead", settled, START_SECONDS)
        self._killed.clear()

    def stop(self, name: str) -> None:
        """SIGTERM the node's ``ray start`` (it stops what it started), then make sure."""
        node = self.nodes.pop(name)
        node.process.terminate()
        try:
            node.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(node.pid, signal.SIGKILL)
            node.process.wait(timeout=STOP_SECONDS)
        self._reap(node)

    def _reap(self, node: Node) -> None:
        """Wait for the node's other processes (workers leave once their raylet is gone)."""
        try:
            wait_until(f"{node.name}'s processes gone", lambda: not session_pids(node.pid), 20)
        finally:
            for pid in session_pids(node.pid):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop every node, the second ones first, and check nothing of them runs."""
        try:
            for name in sorted(self.nodes, key=lambda name: name == "head"):
                self.stop(name)
        finally:
            for node in list(self.nodes.values()):  # a stop that failed: make sure
                os.killpg(node.pid, signal.SIGKILL)
            shutil.rmtree(self.root, ignore_errors=True)


def netflag(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a process of its own: ``python -m netflag ARGS`` (``env`` None: no Ray)."""
    return subprocess.run(
        [sys.executable, "-m", "netflag", *args],
        env=plain_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=paths.ROOT,
    )


def without_seconds(text: str) -> str:
    """A summary line without its timing, which differs from run to run."""
    return re.sub(r" in \d+\.\d+ s\b", " in _ s", text)
