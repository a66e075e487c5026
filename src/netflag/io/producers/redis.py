"""Push an event log into a Redis stream at a steady rate, for demos and tests of live mode.

Each non-blank line becomes one entry: ``event`` holds the line (without its
line ending), ``line`` its line number. After a broken connection the producer
reads the stream's last entry and resumes after the line it holds, so a Redis
restart neither loses nor repeats a line (as long as it is the only producer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netflag.io.reader import numbered_lines
from netflag.io.redis_client import Backoff, connect, parse_url, retrying

CHUNK = 1_000  # entries per pipeline when there is no rate limit
TICK = 0.05  # seconds between sends when there is a rate limit


def produce(
    stream: Path,
    url: str,
    *,
    rate: float = 0.0,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """XADD every event line of ``stream`` to ``url``, ``rate`` lines per second (0: no limit).

    Returns how many entries were added.
    """
    target = parse_url(url)
    client = connect(target)
    backoff = Backoff()
    lines = [(number, raw.rstrip(b"\r\n")) for number, raw in numbered_lines(stream)]
    per_send = max(1, int(rate * TICK)) if rate > 0 else CHUNK
    started = time.monotonic()
    sent = 0

    def resync() -> None:
        nonlocal sent
        tail: Any = client.xrevrange(target.stream, count=1)
        last = int(tail[0][1].get(b"line", b"0")) if tail else 0
        while sent < len(lines) and lines[sent][0] <= last:
            sent += 1

    def send() -> None:
        nonlocal sent
        chunk = lines[sent : sent + per_send]
        pipe = client.pipeline(transaction=False)
        for number, raw in chunk:
            pipe.xadd(target.stream, {"event": raw, "line": str(number)})
        pipe.execute()
        sent += len(chunk)

    try:
        while sent < len(lines):
            retrying(target, backoff, send, resync=resync)
            if on_progress is not None:
                on_progress(sent)
            if rate > 0:
                ahead = started + sent / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
    finally:
        client.close()
    return sent
