"""A throwaway ``netflag serve`` process, and its throughput and latency on loopback.

Both serve ``netflag bench`` and the tests. The load comes from plain asyncio
connections speaking HTTP/1.1 with keep-alive (no client library: at thousands
of requests a second the client must cost less than the server). Every run is
bounded twice, by seconds and by requests, and sends to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from types import TracebackType

from netflag.errors import InputError

_LISTENING = re.compile(rb"http://127\.0\.0\.1:(\d+) ")


class ServeProcess:
    """``with ServeProcess(batch, state) as server:`` a ``netflag serve`` on ``server.port``.

    ``extra`` are more ``netflag serve`` options. Leaving the block stops it
    with SIGTERM (a clean shutdown); :meth:`kill` is the SIGKILL of a crash.
    """

    def __init__(self, batch: Path, state: Path, *extra: str, startup_seconds: float = 120) -> None:
        self.command = [
            sys.executable, "-m", "netflag", "serve", str(batch), "--state", str(state),
            "--host", "127.0.0.1", "--port", "0", "--no-progress", *extra,
        ]  # fmt: skip
        self.startup_seconds = startup_seconds
        self.port = 0
        self.log: list[bytes] = []  # its stderr lines
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait until it listens and ``/readyz`` answers."""
        self.process = process = subprocess.Popen(self.command, stderr=subprocess.PIPE)
        listening = threading.Event()
        # Read stderr to the end in the background, so the server never blocks on it.
        threading.Thread(target=self._read_log, args=(process, listening), daemon=True).start()
        deadline = time.monotonic() + self.startup_seconds
        while not listening.wait(0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise InputError(f"netflag serve did not start: {b''.join(self.log).decode()}")
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.05)
        raise InputError("netflag serve did not get ready in time")

    def _read_log(self, process: subprocess.Popen[bytes], listening: threading.Event) -> None:
        for line in process.stderr or ():
            self.log.append(line)
            found = _LISTENING.search(line)
            if found:
                self.port = int(found.group(1))
                listening.set()

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> int:
        """SIGTERM and wait: the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def __enter__(self) -> ServeProcess:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


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


def _request(body: bytes, content_type: str) -> bytes:
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _client(
    port: int, bodies: Iterator[tuple[bytes, int]], stop_at: float, budget: list[int],
    latencies: list[float], counts: list[int],
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < stop_at and budget[0] > 0:
            budget[0] -= 1
            request, events = next(bodies)
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise InputError(f"netflag serve answered {head.splitlines()[0].decode()}")
            latencies.append(time.perf_counter() - started)
            counts[0] += events
    finally:
        writer.close()


def run_load(
    port: int,
    lines: list[bytes],
    *,
    clients: int,
    per_request: int,
    seconds: float,
    max_requests: int,
) -> LoadResult:
    """POST ``lines`` (cycled) ``per_request`` at a time from ``clients`` connections."""
    if per_request == 1:
        bodies = [(_request(line, "application/json"), 1) for line in lines]
    else:
        chunks = [lines[i : i + per_request] for i in range(0, len(lines), per_request)]
        bodies = [
            (_request(b"\n".join(chunk) + b"\n", "application/x-ndjson"), len(chunk))
            for chunk in chunks
        ]
    source = cycle(bodies)

    async def main() -> LoadResult:
        latencies: list[float] = []
        counts = [0]
        budget = [max_requests]
        started = time.monotonic()
        await asyncio.gather(
            *(
                _client(port, source, started + seconds, budget, latencies, counts)
                for _ in range(clients)
            )
        )
        return LoadResult(len(latencies), counts[0], time.monotonic() - started, latencies)

    return asyncio.run(main())


def measure_serve(batch: Path, stream: Path, state: Path, seconds: float = 5.0) -> dict[str, float]:
    """Single-event requests at 16 keep-alive clients, then NDJSON bodies of 1,000 events."""
    lines = [line for line in stream.read_bytes().splitlines() if line.strip()]
    with ServeProcess(batch, state) as server:
        run_load(server.port, lines, clients=16, per_request=1, seconds=0.5, max_requests=2_000)
        single = run_load(
            server.port, lines, clients=16, per_request=1, seconds=seconds, max_requests=100_000
        )
        bulk = run_load(
            server.port, lines, clients=2, per_request=1_000, seconds=seconds, max_requests=1_000
        )
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
