"""Live mode's end-to-end throughput against a real Redis (``netflag bench``).

The server is :class:`netflag.devtools.servers.RedisServer`; this times live
mode draining a stream through it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class LiveThroughput:
    """One measurement: ``events`` stream lines in ``seconds``, batch load not included."""

    events: int
    flagged: int
    seconds: float
    load_seconds: float
    checkpoints: int

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def measure_live_throughput(
    batch: Path,
    stream: Path,
    redis_url: str,
    workdir: Path,
    *,
    checkpoint_every: int = 10_000,
    checkpoint_seconds: float = 10.0,
) -> LiveThroughput:
    """Push ``stream`` into the Redis stream ``redis_url`` (which should be new), then time
    live mode draining it: XREADGROUP -> engine -> file sink and Redis sink -> checkpoints
    (a journal mark + fsync) -> XACK, resuming from the snapshot the batch load wrote."""
    from netflag.io.producers.redis import produce
    from netflag.io.sinks import open_sink
    from netflag.io.sources import open_source
    from netflag.modes.live import Live, LiveOptions, LiveOutputs

    events = produce(stream, redis_url, rate=0)
    state = workdir / "state"
    flags_url = f"{redis_url}-flags"

    def live() -> Live:
        sinks = [open_sink(f"file:{workdir / 'flags.json'}"), open_sink(flags_url)]
        options = LiveOptions(
            state=state, checkpoint_every=checkpoint_every, checkpoint_seconds=checkpoint_seconds
        )
        return Live(batch, open_source(redis_url), LiveOutputs(sinks), options)

    loaded = live().run(max_events=0)
    started = time.monotonic()
    summary = live().run(max_events=events)
    seconds = time.monotonic() - started
    return LiveThroughput(
        summary.handled, summary.flagged, seconds, loaded.seconds, summary.checkpoints
    )
