"""A throwaway ``netflag serve`` process, and its throughput and latency on loopback.

Both serve ``netflag bench`` and the tests. The load comes from plain asyncio
connections speaking HTTP/1.1 with keep-alive (no client library: at thousands
of requests a second the client must cost less than the server). Every run is
bounded twice, by seconds and by requests, and sends to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from types import TracebackType

from netflag.errors import InputError

CONTENT_LENGTH = re.compile(rb"(?i)content-length: *(\d+)")
_LISTENING = re.compile(rb"netflag serve: INFO: (https?)://127\.0\.0\.1:(\d+) ")


class ServeProcess:
    """``with ServeProcess(batch, state) as server:`` a ``netflag serve`` on ``server.port``.

    ``extra`` are more ``netflag serve`` options. It binds ``--port 0`` and the
    port is read from its first log line; stderr goes to ``<state>.stderr``
    (a pipe nobody reads could fill up and stall it). :meth:`kill` is the
    SIGKILL of a crash, :meth:`stop` a SIGTERM (clean shutdown, exit 0);
    :meth:`start` again restarts it on the same state (on a new port).
    Leaving the block kills it, whatever happened. ``tls``: the context that
    trusts its certificate, when ``extra`` has ``--ssl-certfile``.
    """

    def __init__(
        self,
        batch: Path,
        state: Path,
        *extra: str,
        startup_seconds: float = 120,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.batch, self.state, self.extra = batch, state, list(extra)
        self.startup_seconds = startup_seconds
        self.tls = tls
        self.scheme = "http"
        self.port = 0
        self.starts = 0
        self.log = state.with_name(f"{state.name}.stderr")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "netflag", "serve", str(self.batch), "--state",
                str(self.state), "--port", "0", "--no-progress", *self.extra]  # fmt: skip

    def start(self) -> ServeProcess:
        """Start it and wait until it listens and ``/readyz`` answers."""
        if self.process is not None:
            raise RuntimeError("netflag serve is already running")
        self.starts += 1
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as stderr:
            stderr.write(b"--- start %d\n" % self.starts)
            stderr.flush()
            offset = stderr.tell()
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + self.startup_seconds
        try:
            self.scheme, self.port = self._wait_for_port(offset, deadline)
            self._wait_ready(deadline)
        except BaseException:
            self.kill()
            raise
        return self

    def stderr(self) -> str:
        """Everything it wrote on stderr, over all its starts."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _wait_for_port(self, offset: int, deadline: float) -> tuple[str, int]:
        while True:
            with self.log.open("rb") as handle:
                handle.seek(offset)
                found = _LISTENING.search(handle.read())
            if found:
                return found.group(1).decode(), int(found.group(2))
            code = None if self.process is None else self.process.poll()
            if code is not None:
                raise InputError(f"netflag serve exited with {code}:\n{self.stderr()}")
            if time.monotonic() > deadline:
                raise InputError(f"netflag serve did not start:\n{self.stderr()}")
            time.sleep(0.02)

    def _wait_ready(self, deadline: float) -> None:
        while True:
            try:
                ready = f"{self.url}/readyz"
                with urllib.request.urlopen(ready, timeout=5, context=self.tls):  # noqa: S310
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise InputError(f"/readyz did not answer:\n{self.stderr()}") from None
                time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (a crash)."""
        self._end(signal.SIGKILL)

    def stop(self, grace: float = 30.0) -> int:
        """SIGTERM: a clean shutdown (answers sent, last snapshot); its exit code."""
        return self._end(signal.SIGTERM, grace)

    def _end(self, sig: signal.Signals, grace: float = 30.0) -> int:
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
            raise InputError(f"netflag serve ignored {sig.name} for {grace} s") from None

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.kill()


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one load run measured (latencies in seconds, per request)."""

    requests: int
    events: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)


def events_request(body: bytes, content_type: str) -> bytes:
    """A ``POST /v1/events`` of ``body``, whole, for a keep-alive connection."""
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _client(
    port: int, bodies: Iterator[tuple[bytes, int]], stop_at: float, latencies: list[float],
    counts: list[int],
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request, events in bodies:  # shared by every client: each body is sent once
            if time.monotonic() >= stop_at:
                break
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(CONTENT_LENGTH.search(head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise InputError(f"netflag serve answered {head.splitlines()[0].decode()}")
            latencies.append(time.perf_counter() - started)
            counts[0] += events
    finally:
        writer.close()


def run_load(
    port: int, lines: Iterator[bytes], *, clients: int, per_request: int, seconds: float
) -> LoadResult:
    """POST the next ``lines`` (each once, in order: a log's timestamps keep increasing),
    ``per_request`` at a time from ``clients`` connections, until ``seconds`` or the end."""
    if per_request == 1:
        bodies = ((events_request(line, "application/json"), 1) for line in lines)
    else:
        chunks = iter(lambda: list(islice(lines, per_request)), [])
        bodies = (
            (events_request(b"\n".join(chunk) + b"\n", "application/x-ndjson"), len(chunk))
            for chunk in chunks
        )

    async def main() -> LoadResult:
        latencies: list[float] = []
        counts = [0]
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(
            *(_client(port, bodies, stop_at, latencies, counts) for _ in range(clients))
        )
        return LoadResult(len(latencies), counts[0], time.monotonic() - started, latencies)

    return asyncio.run(main())


def measure_serve(batch: Path, stream: Path, state: Path, seconds: float = 5.0) -> dict[str, float]:
    """Single-event requests at 16 keep-alive clients, then NDJSON bodies of 1,000 events:
    the stream in order, each line once (a warm-up of 2,000 lines first). Each run stops
    after ``seconds`` or at the end of the stream."""
    lines = iter([line for line in stream.read_bytes().splitlines() if line.strip()])
    with ServeProcess(batch, state) as server:
        run_load(server.port, islice(lines, 2_000), clients=16, per_request=1, seconds=seconds)
        single = run_load(server.port, lines, clients=16, per_request=1, seconds=seconds)
        bulk = run_load(server.port, lines, clients=2, per_request=1_000, seconds=seconds)
    return {
        "requests": single.requests,
        "seconds": single.seconds,
        "requests_per_second": single.per_second,
        "p50_ms": single.p50 * 1000,
        "p99_ms": single.percentile(0.99) * 1000,
        "bulk_events": bulk.events,
        "bulk_seconds": bulk.seconds,
        "bulk_events_per_second": bulk.events_per_second,
        "bulk_p99_ms": bulk.percentile(0.99) * 1000,
    }
