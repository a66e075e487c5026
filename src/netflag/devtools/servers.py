"""Throwaway local servers for the tests and the benchmarks: a redis-server on loopback.

Each runs on a free 127.0.0.1 port in its own folder and is stopped by its
owner; Redis keeps an append-only file, so it can be restarted mid-stream
without losing entries. :class:`LocalServer` is what every such server
(this one, :class:`netflag.devtools.kafka.KafkaBroker`) does with its process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from netflag.errors import InputError

REDIS_MISSING = "redis-server is not installed: apt-get install redis-server (.ci/run installs it)"


def native_env() -> dict[str, str]:
    """This environment for a program that is not Python (a server, a browser, curl):
    without ``LD_PRELOAD``, which ``scripts/test-sanitized`` sets to ASan's runtime for
    CPython, and under which a JVM or chromium dies and curl hangs."""
    return {name: value for name, value in os.environ.items() if name != "LD_PRELOAD"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class LocalServer:
    """A server process started here: ``with`` it, :meth:`stop` it cleanly (SIGTERM,
    then SIGKILL after ``stop_seconds``), :meth:`kill` it, :meth:`restart` it."""

    stop_seconds = 20.0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.stop_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=20)
            self.process = None

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.kill()


class RedisServer(LocalServer):
    """``with RedisServer(folder) as server:`` a redis-server on ``server.port``; :meth:`stop`
    lets Redis write its append-only file."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise InputError(REDIS_MISSING)
        self.executable = executable
        self.folder = folder
        self.port = port or free_port()

    def url(self, stream: str) -> str:
        return f"redis://127.0.0.1:{self.port}/{stream}"

    def start(self) -> None:
        """Start the server and wait until it answers (and has loaded its data)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        # fmt: off
        command = [
            self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--logfile", "redis.log", "--daemonize", "no",
        ]
        # fmt: on
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=native_env())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise InputError(f"redis-server exited at once; see {self.folder / 'redis.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise InputError(f"redis-server did not answer on port {self.port} within 10 s")
