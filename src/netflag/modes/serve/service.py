"""The scoring service without HTTP: one engine, one writer, a durable log.

A :class:`Service` owns what its parts share (:mod:`~netflag.modes.serve.shared`)
and starts and stops them: the writer (:mod:`~netflag.modes.serve.writer`)
applies requests in groups and answers each once it is durable, the snapshots
(:mod:`~netflag.modes.serve.snapshots`) bound recovery, and the queries
(:mod:`~netflag.modes.serve.queries`) read the same engine on the same event
loop. Starting loads the batch log into a new state directory, or recovers one.

The log is the stream log: after a crash, the snapshot plus the log's tail
rebuild exactly the acknowledged state, flags and idempotency receipts.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from netflag.analysis.explain import Explanation
from netflag.engine import Amount, Engine
from netflag.errors import CheckpointError
from netflag.io.counts import count
from netflag.modes.serve.errors import Conflict, Gone, NotFound, Unavailable
from netflag.modes.serve.queries import Queries
from netflag.modes.serve.shared import ServiceOptions, Shared
from netflag.modes.serve.snapshots import SERVE_FIELDS, Snapshots
from netflag.modes.serve.writer import SOURCE, SYNCS_IN_FLIGHT, Writer
from netflag.runtime.batch import load_batch
from netflag.runtime.pipeline import COUNTERS, Pipeline
from netflag.runtime.rejects import Rejects

__all__ = [
    "SERVE_FIELDS",
    "SOURCE",
    "SYNCS_IN_FLIGHT",
    "Conflict",
    "Gone",
    "NotFound",
    "Service",
    "ServiceOptions",
    "Unavailable",
]

log = logging.getLogger("netflag.serve")


class Service:
    """``Service(batch, state_dir).start()`` then ``await submit(...)`` from one event loop."""

    def __init__(self, batch: Path, state: Path, options: ServiceOptions | None = None) -> None:
        self.batch = batch
        self.options = options or ServiceOptions()
        self.shared = shared = Shared(state, self.options)
        self.snapshots = Snapshots(shared)
        self.writer = Writer(shared, on_durable=self.snapshots.maybe)
        self.queries = Queries(shared)
        # The shared parts that are never replaced, under the service's own names too.
        self.journal = shared.journal
        self.flags = shared.flags
        self.receipts = shared.receipts
        self.metrics = shared.metrics
        self.subscribers = shared.subscribers

    @property
    def pipeline(self) -> Pipeline:
        return self.shared.pipeline

    @property
    def engine(self) -> Engine:
        return self.shared.engine

    @property
    def synced(self) -> int:
        """The last durable event: what queries and answers may show."""
        return self.shared.synced

    @property
    def snapshot_seq(self) -> int:
        return self.shared.snapshot_seq

    @property
    def failed(self) -> str | None:
        """Why the service takes no more events (a failed write), or None."""
        return self.shared.failed

    # -- start and stop ---------------------------------------------------------------

    def start(self) -> None:
        """Recover from the state directory, or load the batch log into a new one."""
        try:
            self._start()
        except BaseException:
            self.flags.close()
            self.journal.close()  # and its lock: the directory is free again
            raise

    def _start(self) -> None:
        shared, options, progress = self.shared, self.options, self.options.progress
        if progress is not None:
            progress.phase("read log")
        recovery = self.journal.recover()
        if recovery.dropped:
            log.warning(
                "%s: cut a torn record (%d bytes) off the log", self.journal, recovery.dropped
            )
        snapshot = recovery.snapshot
        foreign = any("mark" in record.meta for record in recovery.records)
        if foreign or (snapshot is not None and not snapshot.extra.keys() >= SERVE_FIELDS):
            raise CheckpointError(
                f"{self.journal} is not a netflag serve state directory (live mode's?):"
                " give serve a directory of its own"
            )
        rejects = Rejects(report=self.writer.reject)
        if snapshot is None:
            engine, applied, warnings = load_batch(
                self.batch,
                rejects,
                D=options.D,
                T=options.T,
                k=options.k,
                strategy=options.strategy,
                progress=progress,
            )
            for warning in warnings:
                log.warning("%s", warning)
            log.info("loaded %s from %s", count(applied, "batch event"), self.batch)
            self.flags.open(None)
            counts = dict.fromkeys(COUNTERS, 0)
            counts["rejected"] = rejects.count
        else:
            engine, counts = self.snapshots.restore(snapshot)
            rejects.count = counts["rejected"]
        shared.snapshot_seq = recovery.seq
        shared.pipeline = Pipeline(engine, rejects, counts=counts)
        if progress is not None and recovery.records:
            progress.phase("replay log", sum(len(r.lines) for r in recovery.records), "events")
        for record in recovery.records:
            self.writer.apply(record, count=False)
            if progress is not None:
                progress.advance(len(record.lines))
        shared.synced = self.journal.seq
        self.flags.flush()  # the replayed flags, readable by the answers and queries
        # A new directory gets a snapshot of its batch load (never read the batch again). A
        # restart after a crash takes none: the log it replayed stays, for explain and journal.
        if snapshot is None:
            if progress is not None:
                progress.phase("write snapshot")
            self.snapshots.now()
        self.writer.serving = True
        if progress is not None:
            progress.finish()

    def run_writer(self) -> None:
        """Start the writer task on the running event loop (the app's startup)."""
        self.writer.run()

    async def close(self) -> None:
        """Finish what is queued, take a last snapshot, release the directory."""
        await self.writer.drain()
        await self.snapshots.finish()
        self.queries.explainer.close()
        self.writer.shutdown()
        self.flags.close()
        self.journal.close()

    # -- writing and queries ----------------------------------------------------------

    async def submit(self, lines: list[bytes], key: str | None, digest: str) -> bytes:
        """Apply ``lines`` durably; the JSON answer (one result an event)."""
        return await self.writer.submit(lines, key, digest)

    def score(self, user: str, amount: Amount) -> Explanation:
        """Decide a purchase of ``amount`` by ``user`` now, without recording it."""
        return self.queries.score(user, amount)

    async def explain(self, seq: int) -> Explanation:
        """Why the purchase at ``seq`` was (not) flagged, rebuilt in a process of its own."""
        return await self.queries.explain(seq)

    def explain_seq(self, seq: int) -> Explanation:
        """Explain the purchase at ``seq`` as it was decided (slow: run it in a thread)."""
        return self.queries.explain_seq(seq)

    def stats(self) -> dict[str, Any]:
        return self.queries.stats()

    def subscribe(self, backlog: int = 1000) -> asyncio.Queue[tuple[int, bytes]]:
        return self.queries.subscribe(backlog)

    def unsubscribe(self, queue: asyncio.Queue[tuple[int, bytes]]) -> None:
        self.queries.unsubscribe(queue)

    def end_streams(self) -> None:
        """End every flag stream (safe from a signal handler): the server is stopping."""
        self.queries.end_streams()
