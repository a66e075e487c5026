"""The real ``netflag serve`` for the tests: :class:`netflag.devtools.bench.serve.ServeProcess`
plus an httpx client that carries the bearer token."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path

import httpx

from netflag.devtools.bench.serve import ServeProcess

NETFLAG = [sys.executable, "-m", "netflag"]


class Server(ServeProcess):
    """``with Server(batch, state) as server: server.client().get("/readyz")``.

    ``kill()`` (SIGKILL) or ``stop()`` (SIGTERM, a clean shutdown) and then
    ``start()`` again restarts it on the same state directory (on a new port).
    """

    def __init__(
        self,
        batch: Path,
        state: Path,
        *options: str,
        token: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(batch, state, *options, startup_seconds=60, tls=tls)
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    def client(self, timeout: float | httpx.Timeout = 30.0) -> httpx.Client:
        """A client for this server (with the token, if it has one)."""
        verify = True if self.tls is None else self.tls
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout, verify=verify)
