"""The scoring service without HTTP: one engine, one writer, a durable log.

Requests queue up; one writer task takes everything queued, applies it in
arrival order through the shared :class:`~netflag.runtime.pipeline.Pipeline`, appends
it to the journal, and fsyncs once for the whole group (group commit) in a
thread, while the next group is applied. Only then are the group's answers
released and its flags published: an answer means durable. Queries run on
the same event loop, so they never see the engine half-way through an event;
flags, feeds and explanations show durable events only (up to ``synced``),
while a score or the stats may already count a group whose fsync is under way.

The log is the stream log: after a crash, the snapshot plus the log's tail
rebuild exactly the acknowledged state, flags and idempotency receipts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netflag.analysis.common import format_timestamp
from netflag.analysis.explain import Explanation, check_agrees, explain
from netflag.engine import Amount, Engine, Purchase, Strategy
from netflag.engine import snapshot as snapshots
from netflag.errors import CheckpointError, NetflagError
from netflag.io.events import LineError, parse_event
from netflag.modes.serve.flagstore import FlagStore
from netflag.modes.serve.metrics import Metrics, reason_label
from netflag.modes.serve.receipts import KIND_LETTERS, Receipt, Receipts, answer
from netflag.runtime.actions import action_line
from netflag.runtime.batch import load_batch
from netflag.runtime.journal import SNAPSHOT, Journal, Record
from netflag.runtime.pipeline import COUNTERS, Outcome, Pipeline
from netflag.runtime.progress import Progress
from netflag.runtime.rejects import Rejection, Rejects

log = logging.getLogger("netflag.serve")
SOURCE = "request"  # what a rejected line's reason is reported against
SYNCS_IN_FLIGHT = 2  # group commits whose fsync may overlap the next group's work
SERVE_FIELDS = {"counts", "flags", "receipts"}  # what a snapshot of the service carries
EXPLAINS_AT_ONCE = 2  # each rebuilds an engine from the snapshot: memory and a core


class Conflict(NetflagError):
    """An idempotency key reused for another body."""


class Unavailable(NetflagError):
    """The service cannot make events durable now (a failed disk write, shutting down)."""


class Gone(NetflagError):
    """The event asked about is behind the last snapshot: its log was truncated."""


class NotFound(NetflagError):
    """No such event (or it is not a purchase)."""


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


@dataclass(slots=True)
class _Request:
    lines: list[bytes]
    key: str | None
    digest: str
    done: asyncio.Future[bytes]


class Service:
    """``Service(batch, state_dir).start()`` then ``await submit(...)`` from one event loop."""

    def __init__(self, batch: Path, state: Path, options: ServiceOptions | None = None) -> None:
        from netflag.version import __version__

        self.batch = batch
        self.options = options or ServiceOptions()
        self.journal = Journal(state, __version__, keep=self.options.keep_log)
        self.flags = FlagStore(state)
        self.receipts = Receipts(self.options.keep_keys)
        self.metrics = Metrics(self._gauges)
        self.pipeline: Pipeline
        self.synced = 0  # the last durable event: what queries and answers may show
        self.snapshot_seq = 0
        self.snapshot_at = time.monotonic()
        self.failed: str | None = None
        self.subscribers: set[asyncio.Queue[tuple[int, bytes]]] = set()
        self._queue: list[_Request] = []
        self._wake = asyncio.Event()  # bound to a loop only when first awaited
        self._writer: asyncio.Task[None] | None = None
        self._inflight: dict[str, _Request] = {}
        self._commits: list[asyncio.Task[None]] = []  # group commits still waiting on fsync
        # Its own thread: explanations (slow, in the default pool) never hold up an fsync.
        self._fsync = ThreadPoolExecutor(1, thread_name_prefix="netflag-fsync")
        self._explaining = asyncio.Semaphore(EXPLAINS_AT_ONCE)
        self._serving = False  # metrics count from here (not the batch load or recovery)
        self._snapshotting: asyncio.Task[None] | None = None
        self._fresh: dict[int, bytes] = {}  # this group's flags by seq, for its answers

    @property
    def engine(self) -> Engine:
        return self.pipeline.engine

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
        options, progress = self.options, self.options.progress
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
        rejects = Rejects(report=self._reject)
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
            log.info("loaded %d batch events from %s", applied, self.batch)
            self.flags.open(None)
            counts = dict.fromkeys(COUNTERS, 0)
            counts["rejected"] = rejects.count
        else:
            engine = self._restore(snapshot)
            extra = snapshot.extra
            self.flags.open(extra["flags"])
            self.receipts.load_json(extra["receipts"])
            counts = {name: int(extra["counts"][name]) for name in COUNTERS}
            rejects.count = counts["rejected"]
        self.snapshot_seq = recovery.seq
        self.pipeline = Pipeline(engine, rejects, counts=counts)
        if progress is not None and recovery.records:
            progress.phase("replay log", sum(len(r.lines) for r in recovery.records), "events")
        for record in recovery.records:
            self._apply(record, count=False)
            if progress is not None:
                progress.advance(len(record.lines))
        self.synced = self.journal.seq
        if snapshot is None or recovery.records:
            if progress is not None:
                progress.phase("write snapshot")
            self._snapshot_now()
        self._serving = True
        if progress is not None:
            progress.finish()

    def _restore(self, snapshot: snapshots.Snapshot) -> Engine:
        options = self.options
        made = snapshot.state.params
        wanted = made.overridden(options.D, options.T, options.k)
        if wanted != made:
            raise CheckpointError(
                f"{self.journal} was made with {made.describe()}, not {wanted.describe()}:"
                " drop the options or use another --state directory"
            )
        try:
            return Engine.from_state(snapshot.state, strategy=options.strategy)
        except (IndexError, KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{self.journal}: engine state is invalid ({error})") from None

    def run_writer(self) -> None:
        """Start the writer task on the running event loop (the app's startup)."""
        self._wake = asyncio.Event()
        self._commits = []
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def close(self) -> None:
        """Finish what is queued, take a last snapshot, release the directory."""
        if self._writer is not None:
            while self._queue and self.failed is None:
                await asyncio.sleep(0.001)
            self._writer.cancel()
            await asyncio.gather(*(commit for commit in self._commits if not commit.done()))
        if self._snapshotting is not None:
            await self._snapshotting
        if self.failed is None and self.journal.seq > self.snapshot_seq:
            self._snapshot_now()
        self._fsync.shutdown()
        self.flags.close()
        self.journal.close()

    # -- writing ----------------------------------------------------------------------

    async def submit(self, lines: list[bytes], key: str | None, digest: str) -> bytes:
        """Apply ``lines`` durably; the JSON answer (one result an event)."""
        if self.failed is not None:
            raise Unavailable(self.failed)
        if key is not None:
            pending = self._inflight.get(key)
            if pending is not None:  # the same request, still on its way to the disk
                self._same_body(key, pending.digest, digest)
                return await asyncio.shield(pending.done)
            receipt = self.receipts.get(key)
            if receipt is not None:
                self._same_body(key, receipt.digest, digest)
                return answer(receipt, self._stored_flag)
        request = _Request(lines, key, digest, asyncio.get_running_loop().create_future())
        if key is not None:
            self._inflight[key] = request
        self._queue.append(request)
        self._wake.set()
        return await asyncio.shield(request.done)

    @staticmethod
    def _same_body(key: str, first: str, now: str) -> None:
        if first != now:
            raise Conflict(f"Idempotency-Key {key!r} was used for another body")

    async def _write_loop(self) -> None:
        """Apply each group as it comes; its fsync runs in a thread while the next group
        is applied (at most ``SYNCS_IN_FLIGHT``); answers go out in order, once durable."""
        while True:
            if not self._queue:
                await self._wake.wait()
            self._wake.clear()
            group, self._queue = self._queue, []
            if not group:
                continue
            try:
                answers = [self._write(request) for request in group]
                self._fresh.clear()
                self.flags.flush()
                sync = self.journal.syncer()
            except Exception as error:  # noqa: BLE001  (the engine is ahead of the log now)
                self._fail(f"the log cannot be written ({error}); restart the service", group)
                return
            syncing = asyncio.get_running_loop().run_in_executor(self._fsync, sync)
            commits = [task for task in self._commits if not task.done()]
            before = commits[-1] if commits else None
            commit = self._commit(group, answers, self.journal.seq, syncing, before)
            commits.append(asyncio.ensure_future(commit))
            self._commits = commits
            if len(commits) >= SYNCS_IN_FLIGHT:
                await asyncio.wait(commits[:1])

    def _write(self, request: _Request) -> bytes:
        """Log one request's lines, apply them, and make its answer (not released yet)."""
        meta = {"key": request.key, "digest": request.digest} if request.key else None
        first = self.journal.append(request.lines, meta)
        receipt = self._apply(Record(first, request.lines, meta or {}))
        return answer(receipt, self._fresh.get)  # the group's flags are all there

    async def _commit(
        self,
        group: list[_Request],
        answers: list[bytes],
        upto: int,
        syncing: asyncio.Future[None],
        before: asyncio.Task[None] | None,
    ) -> None:
        """Release a group's answers once its fsync and every earlier group's are done."""
        try:
            await syncing
            if before is not None:
                await before
        except Exception as error:  # noqa: BLE001  (nothing after this group is durable)
            self._fail(f"the log cannot be written ({error}); restart the service", group)
            return
        if self.failed is not None:
            self._fail(self.failed, group)
            return
        synced, self.synced = self.synced, upto
        for request, text in zip(group, answers, strict=True):
            if request.key is not None:
                self._inflight.pop(request.key, None)
            request.done.set_result(text)
        self._publish(synced)
        self._maybe_snapshot()

    def _apply(self, record: Record, *, count: bool = True) -> Receipt:
        """Take a log record's lines down the pipeline; its receipt (kept if keyed).

        ``count``: into this process's metrics (not while recovering).
        """
        pipeline, metrics = self.pipeline, self.metrics
        observe, clock = metrics.check_seconds.observe, time.perf_counter
        kinds: list[str] = []
        reasons: dict[int, str] = {}
        for index, raw in enumerate(record.lines):
            started = clock()
            outcome = pipeline.step(raw, SOURCE, record.first + index)
            kind = outcome.kind
            if kind is None:
                kinds.append("r")
                reasons[index] = outcome.reason or ""
                continue
            kinds.append(KIND_LETTERS[kind])
            if kind == "purchase":
                if count:
                    observe(clock() - started)
                if outcome.flag is not None:
                    self._keep_flag(record.first + index, raw, outcome)
                    if count:
                        metrics.flags.inc()
        letters = "".join(kinds)
        if count:
            for kind, letter in KIND_LETTERS.items():
                if seen := letters.count(letter):
                    metrics.events.labels(kind).inc(seen)
        receipt = Receipt(str(record.meta.get("digest", "")), record.first, letters, reasons)
        key = record.meta.get("key")
        if key is not None:
            self.receipts.put(str(key), receipt)
        return receipt

    def _keep_flag(self, seq: int, raw: bytes, outcome: Outcome) -> None:
        """Store a flag with its actions, read off the graph as it stands (at the flag)."""
        event = outcome.event
        if not isinstance(event, Purchase) or outcome.flag is None or outcome.decision is None:
            raise RuntimeError(f"event {seq}: a flag without a flagged purchase")
        limit = self.options.max_recommendations
        self.flags.add(
            seq, outcome.flag, action_line(self.engine, event, outcome.decision, raw, limit)
        )
        self._fresh[seq] = outcome.flag

    def _reject(self, rejection: Rejection) -> None:
        if self._serving:
            self.metrics.rejects.labels(reason_label(rejection.reason)).inc()

    def _stored_flag(self, seq: int) -> bytes | None:
        index = self.flags.index_of(seq)
        return None if index is None else self.flags.line(index)

    def _fail(self, reason: str, group: list[_Request]) -> None:
        """A write failed: the engine is ahead of the log, so stop taking events."""
        if self.failed is None:
            log.error("%s", reason)
        self.failed = reason
        for request in [*group, *self._queue]:
            if request.key is not None:
                self.receipts.drop(request.key)  # never durable: a retry must not see it
            if not request.done.done():
                request.done.set_exception(Unavailable(reason))
        self._queue.clear()
        self._inflight.clear()

    def _publish(self, synced: int) -> None:
        if not self.subscribers:
            return
        for index in self.flags.after(synced, len(self.flags), self.synced):
            item = (self.flags.seqs[index], self.flags.line(index))
            for queue in list(self.subscribers):
                try:
                    queue.put_nowait(item)
                except asyncio.QueueFull:
                    self.subscribers.discard(queue)  # too slow: its stream ends

    # -- snapshots --------------------------------------------------------------------

    def _maybe_snapshot(self) -> None:
        if self._snapshotting is not None and not self._snapshotting.done():
            return
        due = self.journal.seq - self.snapshot_seq >= self.options.snapshot_every or (
            self.journal.seq > self.snapshot_seq
            and time.monotonic() - self.snapshot_at >= self.options.snapshot_seconds
        )
        if due:
            self._snapshotting = asyncio.get_running_loop().create_task(self._snapshot_async())

    def _snapshot_parts(self) -> tuple[Any, int, dict[str, Any]]:
        """The state now, the log rolled under it, and what goes with it."""
        state = self.engine.state()
        seq = self.journal.roll()
        self.flags.flush()
        extra = {
            "counts": self.pipeline.counts(),
            "flags": self.flags.lengths(),
            "receipts": self.receipts.to_json(),
        }
        return state, seq, extra

    def _write_snapshot(self, state: Any, seq: int, extra: dict[str, Any]) -> None:
        self.flags.sync()  # the snapshot vouches for the flag files' lengths
        self.journal.save_snapshot(state, seq, extra)

    def _snapshot_now(self) -> None:
        state, seq, extra = self._snapshot_parts()
        self._write_snapshot(state, seq, extra)
        self.snapshot_seq, self.snapshot_at = seq, time.monotonic()

    async def _snapshot_async(self) -> None:
        state, seq, extra = self._snapshot_parts()
        started = time.monotonic()
        try:
            await asyncio.to_thread(self._write_snapshot, state, seq, extra)
        except (OSError, NetflagError) as error:
            log.error("snapshot failed (the log still holds everything): %s", error)
            return
        self.snapshot_seq, self.snapshot_at = seq, time.monotonic()
        log.info("snapshot at event %d in %.2f s", seq, time.monotonic() - started)

    # -- queries ----------------------------------------------------------------------

    def score(self, user: str, amount: Amount) -> Explanation:
        """Decide a purchase of ``amount`` by ``user`` now, without recording it."""
        return explain(self.engine, user, amount)

    async def explain(self, seq: int) -> Explanation:
        """:meth:`explain_seq` on a thread, a few at a time."""
        async with self._explaining:
            return await asyncio.to_thread(self.explain_seq, seq)

    def explain_seq(self, seq: int) -> Explanation:
        """Explain the purchase at ``seq`` as it was decided (rebuilt from the snapshot
        and the log; slow, so run it in a thread)."""
        if not 1 <= seq <= self.synced:
            raise NotFound(f"no event {seq} in the log (it holds 1..{self.synced})")
        for _ in range(3):  # a snapshot taken meanwhile may drop the segments we need
            loaded = snapshots.load_file(self.journal.path / SNAPSHOT, version=self.journal.version)
            base = int(loaded.extra["seq"])
            if seq <= base:
                raise Gone(
                    f"event {seq} is behind the last snapshot (event {base}): its log is gone"
                )
            engine = Engine.from_state(loaded.state, strategy=self.options.strategy)
            expected = base + 1
            for number, raw in self.journal.read_since(base, seq):
                if number != expected:
                    break
                expected += 1
                try:
                    event = parse_event(raw)
                except LineError as error:
                    if number == seq:
                        raise NotFound(f"event {seq} was rejected: {error}") from None
                    continue
                if number < seq:
                    engine.apply(event, check=False)
                    continue
                if not isinstance(event, Purchase):
                    raise NotFound(
                        f"event {seq} is a {type(event).__name__.lower()}, not a purchase"
                    )
                when = format_timestamp(event.timestamp)
                found = explain(engine, event.user, event.amount, timestamp=when, line=seq)
                check_agrees(found, engine.apply(event))
                return found
        raise Unavailable(f"event {seq}: the log moved under the explanation; try again")

    def stats(self) -> dict[str, Any]:
        engine = self.engine
        return {
            **self.pipeline.counts(),
            "seq": self.synced,
            "users": engine.users,
            "D": engine.params.D,
            "T": engine.params.T,
            "k": str(engine.params.k),
            "snapshot_seq": self.snapshot_seq,
            "uptime_seconds": round(time.monotonic() - self.metrics.started, 3),
        }

    def _gauges(self) -> dict[str, tuple[str, float]]:
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

    def subscribe(self, backlog: int = 1000) -> asyncio.Queue[tuple[int, bytes]]:
        queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(backlog)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[int, bytes]]) -> None:
        self.subscribers.discard(queue)
