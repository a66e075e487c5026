"""Start the real ``netflag serve`` as a subprocess on a free loopback port, and stop it.

The server binds the socket itself (``--port 0``) and logs
``netflag serve: INFO: http://127.0.0.1:PORT (...)`` on stderr once the state
is loaded; :class:`Server` reads the port from that line, waits for
``/readyz`` and, whatever happens, kills the process when it is done with it.
stderr goes to a file (a pipe nobody reads could fill up and stall the server).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

NETFLAG = [sys.executable, "-m", "netflag"]
LISTENING = re.compile(rb"netflag serve: INFO: http://127\.0\.0\.1:(\d+) ")
START_SECONDS = 60.0


class ServerError(AssertionError):
    """The server did not start (its stderr says why)."""


class Server:
    """``with Server(batch, state) as server: httpx.get(server.url + "/readyz")``.

    ``kill()`` (SIGKILL) or ``stop()`` (SIGTERM, a clean shutdown) and then
    ``start()`` again restarts it on the same state directory (on a new port).
    """

    def __init__(self, batch: Path, state: Path, *options: str, token: str | None = None) -> None:
        self.batch = batch
        self.state = state
        self.options = list(options)
        self.token = token
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0
        self.log = state.with_name(f"{state.name}.stderr")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    def client(self, timeout: float | httpx.Timeout = 30.0) -> httpx.Client:
        """A client for this server (with the token, if it has one)."""
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout)

    def command(self) -> list[str]:
        return [*NETFLAG, "serve", str(self.batch), "--state", str(self.state), "--port", "0",
                *self.options]  # fmt: skip

    def start(self) -> Server:
        """Start it and wait until ``/readyz`` answers 200."""
        assert self.process is None, "already running"
        self.starts += 1
        with self.log.open("ab") as stderr:
            stderr.write(b"--- start %d\n" % self.starts)
            stderr.flush()
            offset = stderr.tell()
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + START_SECONDS
        try:
            self.port = self._wait_for_port(offset, deadline)
            self._wait_ready(deadline)
        except BaseException:
            self.kill()
            raise
        return self

    def stderr(self) -> str:
        """Everything the server wrote on stderr, over all its starts."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _wait_for_port(self, offset: int, deadline: float) -> int:
        assert self.process is not None
        while True:
            with self.log.open("rb") as handle:
                handle.seek(offset)
                found = LISTENING.search(handle.read())
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                raise ServerError(
                    f"netflag serve exited with {self.process.returncode}:\n{self.stderr()}"
                )
            if time.monotonic() > deadline:
                raise ServerError(f"netflag serve did not start:\n{self.stderr()}")
            time.sleep(0.02)

    def _wait_ready(self, deadline: float) -> None:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url + "/readyz", timeout=5.0).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise ServerError(f"/readyz did not answer 200:\n{self.stderr()}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (a crash)."""
        self._end(signal.SIGKILL)

    def stop(self, grace: float = 20.0) -> int:
        """SIGTERM: a clean shutdown (last snapshot); its exit code."""
        return self._end(signal.SIGTERM, grace)

    def _end(self, sig: signal.Signals, grace: float = 20.0) -> int:
        process, self.process = self.process, None
        if process is None:
            return 0
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        try:
            return process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise ServerError(f"netflag serve ignored {sig.name} for {grace} s") from None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.kill()
