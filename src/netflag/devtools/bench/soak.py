"""A soak of ``netflag serve``: steady mixed load on loopback, the process sampled each minute.

``python -m netflag.devtools.bench.soak [MINUTES] [RATE] [MINUTE_SECONDS] [SERVE OPTION...]``
(10 minutes, 500 events a second, 60 s) generates a batch of 2,000 users and 300,000 lines, enough
to fill every user's T = 50 tail (so the state is at its steady size from the start and
growth is a leak, not the state filling up) and a stream long enough, starts the
service with a snapshot every minute (``--snapshot-seconds``), and runs, together and
paced, each bounded by the run's length:

- single-event ``POST /v1/events`` from 4 connections (60% of RATE);
- NDJSON bodies of 100 events from 1 connection (40% of RATE);
- ``GET /v1/flags`` paging after the last flag seen, twice a second;
- ``GET /v1/explain`` of the newest flag, twice a second (410 once a snapshot
  passed it is an answer too);
- one SSE client on ``/v1/flags/stream`` from the start.

At the end of each minute it reads the server's RSS and open descriptors from
``/proc`` (and, apart, the RSS of its children: the fork server and any
explanation's process under way), the state directory's size, and the p99 of
each kind of request in that minute. It prints a Markdown table and a JSON
line, and exits 1 if a request failed, the SSE client missed a flag, the RSS
grew 5% or more over the last 8 minutes, or the descriptors in the second half
never fell back to the first's peak.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from netflag.devtools.bench.serve import CONTENT_LENGTH, ServeProcess, events_request
from netflag.devtools.generate import Preset, generate

KINDS = ("single", "ndjson", "flags", "explain")


@dataclass
class Minute:
    """What one minute of the soak saw (latencies in seconds, by kind of request)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    rss_mib: float = 0.0
    children_mib: float = 0.0  # the explanations' fork server and workers at the sample
    fds: int = 0
    state_mib: float = 0.0


@dataclass
class Soak:
    port: int
    lines: Iterator[bytes]
    stop_at: float
    minute: Minute = field(default_factory=Minute)
    failures: list[str] = field(default_factory=list)
    newest_flag: int = 0
    streamed: int = 0
    flagged: int | None = None  # the service's count once the load is over


async def _call(
    soak: Soak, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], kind: str,
    request: bytes, ok: tuple[int, ...] = (200,),
) -> bytes:  # fmt: skip
    reader, writer = connection
    started = time.perf_counter()
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    found = CONTENT_LENGTH.search(head)
    body = await reader.readexactly(int(found.group(1)) if found else 0)
    soak.minute.latencies[kind].append(time.perf_counter() - started)
    status = int(head.split(b" ", 2)[1])
    if status not in ok:
        soak.failures.append(f"{kind}: {status} {body[:200]!r}")
    return body


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


async def _paced(soak: Soak, per_second: float, kind: str) -> None:
    """One connection sending ``kind`` requests ``per_second`` times a second."""
    connection = await asyncio.open_connection("127.0.0.1", soak.port)
    due = time.monotonic()
    try:
        while (now := time.monotonic()) < soak.stop_at:
            if due > now:
                await asyncio.sleep(due - now)
            due += 1 / per_second
            if kind == "single":
                single = events_request(next(soak.lines), "application/json")
                await _call(soak, connection, kind, single)
            elif kind == "ndjson":
                body = b"\n".join(next(soak.lines) for _ in range(100))
                await _call(soak, connection, kind, events_request(body, "application/x-ndjson"))
            elif kind == "flags":
                page = orjson.loads(await _call(soak, connection, kind, _get(
                    f"/v1/flags?after={max(0, soak.newest_flag - 50)}&limit=100")))  # fmt: skip
                soak.newest_flag = max(soak.newest_flag, page["last_seq"] or 0)
            elif soak.newest_flag:
                path = f"/v1/explain?seq={soak.newest_flag}"
                await _call(soak, connection, kind, _get(path), ok=(200, 410))
    finally:
        connection[1].close()


async def _stream(soak: Soak) -> None:
    """The SSE client: counts the flags it is sent, until it has had every one the
    service made (known once the load is over) or 10 s after the load."""
    reader, writer = await asyncio.open_connection("127.0.0.1", soak.port)
    writer.write(_get("/v1/flags/stream?after=0"))
    give_up = soak.stop_at + 10
    try:
        while soak.flagged is None or soak.streamed < soak.flagged:
            try:
                line = await asyncio.wait_for(reader.readline(), give_up - time.monotonic())
            except TimeoutError:
                break
            soak.streamed += line.startswith(b"event: flag")
    finally:
        writer.close()


def _flagged(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stats", timeout=30) as answer:  # noqa: S310
        return int(orjson.loads(answer.read())["flagged"])


def _rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # an explanation's process that just ended
        return 0.0
    rss = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(rss.group(1)) / 1024 if rss else 0.0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` now (children, theirs, ...), from ``/proc``."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def _sample(minute: Minute, pid: int, state: Path) -> None:
    minute.rss_mib = _rss_mib(pid)
    minute.children_mib = sum(map(_rss_mib, descendants(pid)))
    minute.fds = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    sizes = sum(path.stat().st_size for path in state.rglob("*") if path.is_file())
    minute.state_mib = sizes / (1 << 20)


def run(
    minutes: int, rate: float, minute_seconds: float, folder: Path, *serve_options: str
) -> tuple[list[Minute], Soak]:
    """The soak itself: the minutes' samples and what the load saw (``serve_options``:
    more ``netflag serve`` options, e.g. ``-k 1000`` to see the memory without flags)."""
    stream_lines = int(rate * minutes * minute_seconds * 1.1) + 10_000
    made = generate(folder, Preset(users=2_000, batch_lines=300_000, stream_lines=stream_lines),
                    seed=3)  # fmt: skip
    lines = iter([line for line in made.stream_path.read_bytes().splitlines() if line.strip()])
    state = folder / "state"
    every = f"{max(1.0, minute_seconds):g}"
    options = ("--snapshot-seconds", every, *serve_options)
    with ServeProcess(made.batch_path, state, *options) as server:
        assert server.process is not None  # noqa: S101 - started by the with
        soak = Soak(server.port, lines, time.monotonic() + minutes * minute_seconds)
        samples: list[Minute] = []

        async def main() -> None:
            load = [
                *(_paced(soak, rate * 0.6 / 4, "single") for _ in range(4)),
                _paced(soak, rate * 0.4 / 100, "ndjson"),
                _paced(soak, 2, "flags"),
                _paced(soak, 2, "explain"),
                _stream(soak),
            ]
            tasks = [asyncio.ensure_future(task) for task in load]
            for _ in range(minutes):
                await asyncio.sleep(minute_seconds)
                _sample(soak.minute, server.process.pid, state)  # type: ignore[union-attr]
                samples.append(soak.minute)
                soak.minute = Minute()
            await asyncio.gather(*tasks[:-1])
            soak.flagged = await asyncio.to_thread(_flagged, server.port)
            await tasks[-1]

        asyncio.run(main())
    if soak.streamed != soak.flagged:
        soak.failures.append(f"the SSE client got {soak.streamed:,} flags of {soak.flagged:,}")
    return samples, soak


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000 if ordered else 0.0


def verdict(samples: list[Minute], soak: Soak) -> list[str]:
    """What missed the soak's targets (nothing: it passed)."""
    missed = list(soak.failures[:5])
    if len(samples) >= 9:
        base, end = samples[-9].rss_mib, samples[-1].rss_mib
        if end >= base * 1.05:
            missed.append(f"RSS grew {end / base - 1:.1%} over the last 8 minutes")
    half = len(samples) // 2
    # A sample can catch a connection or an explanation's files open: a leak raises the
    # floor, so the second half's fewest is held against the first half's most.
    if half and min(m.fds for m in samples[half:]) > max(m.fds for m in samples[:half]):
        before, after = max(m.fds for m in samples[:half]), min(m.fds for m in samples[half:])
        missed.append(f"descriptors grew from at most {before} to at least {after}")
    return missed


def table(samples: list[Minute]) -> str:
    head = ["minute", "RSS MiB", "children MiB", "fds", "state MiB"]
    head += [f"{kind} p99 ms" for kind in KINDS] + ["requests"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for number, minute in enumerate(samples, 1):
        cells = [str(number), f"{minute.rss_mib:.1f}", f"{minute.children_mib:.1f}"]
        cells += [str(minute.fds), f"{minute.state_mib:.1f}"]
        cells += [f"{p99(minute.latencies[kind]):.1f}" for kind in KINDS]
        cells.append(f"{sum(len(values) for values in minute.latencies.values()):,}")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    minutes = int(argv[0]) if argv else 10
    rate = float(argv[1]) if len(argv) > 1 else 500.0
    minute_seconds = float(argv[2]) if len(argv) > 2 else 60.0
    with tempfile.TemporaryDirectory(prefix="netflag-soak-") as scratch:
        samples, soak = run(minutes, rate, minute_seconds, Path(scratch), *argv[3:])
    print(table(samples))
    missed = verdict(samples, soak)
    print(orjson.dumps({"minutes": minutes, "rate": rate, "missed": missed,
                        "flags_streamed": soak.streamed}).decode())  # fmt: skip
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
