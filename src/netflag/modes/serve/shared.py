"""What the service's parts share: its options, the log, the flags, and how far it is durable.

The writer, the snapshots and the queries each hold the one :class:`Shared`
their :class:`~netflag.modes.serve.service.Service` owns: the writer moves
``synced`` and ``failed``, the snapshots move ``snapshot_seq`` and
``snapshot_at``, and everyone reads. The Prometheus gauges are read off it too.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from netflag.engine import Engine, Strategy
from netflag.modes.serve.flagstore import FlagStore
from netflag.modes.serve.metrics import Metrics
from netflag.modes.serve.receipts import Receipts
from netflag.runtime.journal import Journal
from netflag.runtime.pipeline import Pipeline
from netflag.runtime.progress import Progress
from netflag.version import __version__


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """How the service runs; the defaults are ``netflag serve``'s."""

    D: object = None
    T: object = None
    k: object = None
    strategy: Strategy = "auto"
    snapshot_every: int = 1_000_000  # events between snapshots (they bound recovery)
    snapshot_seconds: float = 600.0
    keep_keys: int = 10_000  # idempotency receipts kept
    keep_log: bool = False  # snapshots keep the log they cover: the whole log stays
    max_recommendations: int = 10
    progress: Progress | None = None


class Shared:
    """The state directory's journal and flags, the receipts, the metrics, and the engine."""

    def __init__(self, state: Path, options: ServiceOptions) -> None:
        self.options = options
        self.journal = Journal(state, __version__, keep=options.keep_log)
        self.flags = FlagStore(state)
        self.receipts = Receipts(options.keep_keys)
        self.metrics = Metrics(self.gauges)
        self.pipeline: Pipeline  # from the service's start on
        self.synced = 0  # the last durable event: what queries and answers may show
        self.snapshot_seq = 0
        self.snapshot_at = time.monotonic()
        self.failed: str | None = None
        self.subscribers: set[asyncio.Queue[tuple[int, bytes]]] = set()

    @property
    def engine(self) -> Engine:
        return self.pipeline.engine

    def gauges(self) -> dict[str, tuple[str, float]]:
        """The gauges ``/metrics`` shows, read at each scrape."""
        engine = self.engine
        return {
            "netflag_users": ("Users the engine knows", engine.users),
            "netflag_friendships": ("Friendships in the graph now", engine.friendships),
            "netflag_log_events": (
                "Events in the service's log (last sequence number)",
                self.synced,
            ),
            "netflag_log_bytes": (
                "Bytes of write-ahead log kept (since the last snapshot, or all with --keep-log)",
                self.journal.log_bytes(),
            ),
            "netflag_seconds_since_snapshot": (
                "Seconds since the last snapshot",
                time.monotonic() - self.snapshot_at,
            ),
        }
