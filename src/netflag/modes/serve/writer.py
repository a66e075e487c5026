"""The service's one writer: requests queue up, and each group becomes durable at once.

The writer task takes everything queued, applies it in arrival order through
the shared :class:`~netflag.runtime.pipeline.Pipeline`, appends it to the
journal, and fsyncs once for the whole group (group commit) in a thread of its
own, while the next group is applied. Only then are the group's answers
released and its flags published: an answer means durable. A write that fails
leaves the engine ahead of the log, so from then on the writer takes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from netflag.engine import Purchase
from netflag.modes.serve.errors import Conflict, Unavailable
from netflag.modes.serve.metrics import reason_label
from netflag.modes.serve.receipts import KIND_LETTERS, Receipt, answer
from netflag.modes.serve.shared import Shared
from netflag.runtime.actions import action_line
from netflag.runtime.journal import Record
from netflag.runtime.pipeline import Outcome
from netflag.runtime.rejects import Rejection

log = logging.getLogger("netflag.serve")
SOURCE = "request"  # what a rejected line's reason is reported against
SYNCS_IN_FLIGHT = 2  # group commits whose fsync may overlap the next group's work


@dataclass(slots=True)
class _Request:
    lines: list[bytes]
    key: str | None
    digest: str
    done: asyncio.Future[bytes]


class Writer:
    """``submit`` from the event loop; ``run`` starts the task that writes, ``drain`` ends it."""

    def __init__(self, shared: Shared, on_durable: Callable[[], None]) -> None:
        self.shared = shared
        self.on_durable = on_durable  # after each group is answered (a snapshot may be due)
        self.task: asyncio.Task[None] | None = None
        self.serving = False  # metrics count from here (not the batch load or recovery)
        self._queue: list[_Request] = []
        self._wake = asyncio.Event()  # bound to a loop only when first awaited
        self._inflight: dict[str, _Request] = {}
        self._commits: list[asyncio.Task[None]] = []  # group commits still waiting on fsync
        # Its own thread: explanations (slow, in the default pool) never hold up an fsync.
        self._fsync = ThreadPoolExecutor(1, thread_name_prefix="netflag-fsync")
        self._fresh: dict[int, bytes] = {}  # this group's flags by seq, for its answers

    def run(self) -> None:
        """Start the writer task on the running event loop."""
        self._wake = asyncio.Event()
        self._commits = []
        self.task = asyncio.get_running_loop().create_task(self._write_loop())

    async def drain(self) -> None:
        """Let the writer finish what is queued, then stop it once every fsync is done."""
        if self.task is not None:
            while self._queue and self.shared.failed is None:
                await asyncio.sleep(0.001)
            self.task.cancel()
            await asyncio.gather(*(commit for commit in self._commits if not commit.done()))

    def shutdown(self) -> None:
        """Release the fsync thread."""
        self._fsync.shutdown()

    async def submit(self, lines: list[bytes], key: str | None, digest: str) -> bytes:
        """Apply ``lines`` durably; the JSON answer (one result an event)."""
        shared = self.shared
        if shared.failed is not None:
            raise Unavailable(shared.failed)
        if key is not None:
            pending = self._inflight.get(key)
            if pending is not None:  # the same request, still on its way to the disk
                self._same_body(key, pending.digest, digest)
                return await asyncio.shield(pending.done)
            receipt = shared.receipts.get(key)
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
        shared = self.shared
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
                shared.flags.flush()
                sync = shared.journal.syncer()
            except Exception as error:  # noqa: BLE001  (the engine is ahead of the log now)
                self._fail(f"the log cannot be written ({error}); restart the service", group)
                return
            syncing = asyncio.get_running_loop().run_in_executor(self._fsync, sync)
            commits = [task for task in self._commits if not task.done()]
            before = commits[-1] if commits else None
            commit = self._commit(group, answers, shared.journal.seq, syncing, before)
            commits.append(asyncio.ensure_future(commit))
            self._commits = commits
            if len(commits) >= SYNCS_IN_FLIGHT:
                await asyncio.wait(commits[:1])

    def _write(self, request: _Request) -> bytes:
        """Log one request's lines, apply them, and make its answer (not released yet)."""
        meta = {"key": request.key, "digest": request.digest} if request.key else None
        first = self.shared.journal.append(request.lines, meta)
        receipt = self.apply(Record(first, request.lines, meta or {}))
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
        shared = self.shared
        try:
            await syncing
            if before is not None:
                await before
        except Exception as error:  # noqa: BLE001  (nothing after this group is durable)
            self._fail(f"the log cannot be written ({error}); restart the service", group)
            return
        if shared.failed is not None:
            self._fail(shared.failed, group)
            return
        synced, shared.synced = shared.synced, upto
        for request, text in zip(group, answers, strict=True):
            if request.key is not None:
                self._inflight.pop(request.key, None)
            request.done.set_result(text)
        self._publish(synced)
        self.on_durable()

    def apply(self, record: Record, *, count: bool = True) -> Receipt:
        """Take a log record's lines down the pipeline; its receipt (kept if keyed).

        ``count``: into this process's metrics (not while recovering).
        """
        pipeline, metrics = self.shared.pipeline, self.shared.metrics
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
            self.shared.receipts.put(str(key), receipt)
        return receipt

    def _keep_flag(self, seq: int, raw: bytes, outcome: Outcome) -> None:
        """Store a flag with its actions, read off the graph as it stands (at the flag)."""
        event = outcome.event
        if not isinstance(event, Purchase) or outcome.flag is None or outcome.decision is None:
            raise RuntimeError(f"event {seq}: a flag without a flagged purchase")
        shared = self.shared
        limit = shared.options.max_recommendations
        shared.flags.add(
            seq, outcome.flag, action_line(shared.engine, event, outcome.decision, raw, limit)
        )
        self._fresh[seq] = outcome.flag

    def reject(self, rejection: Rejection) -> None:
        """Count a rejected line in the metrics (once serving)."""
        if self.serving:
            self.shared.metrics.rejects.labels(reason_label(rejection.reason)).inc()

    def _stored_flag(self, seq: int) -> bytes | None:
        flags = self.shared.flags
        index = flags.index_of(seq)
        return None if index is None else flags.line(index)

    def _fail(self, reason: str, group: list[_Request]) -> None:
        """A write failed: the engine is ahead of the log, so stop taking events."""
        shared = self.shared
        if shared.failed is None:
            log.error("%s", reason)
        shared.failed = reason
        for request in [*group, *self._queue]:
            if request.key is not None:
                shared.receipts.drop(request.key)  # never durable: a retry must not see it
            if not request.done.done():
                request.done.set_exception(Unavailable(reason))
        self._queue.clear()
        self._inflight.clear()

    def _publish(self, synced: int) -> None:
        """Hand each subscriber the flags made durable since ``synced``."""
        shared = self.shared
        if not shared.subscribers:
            return
        flags = shared.flags
        for index in flags.after(synced, len(flags), shared.synced):
            item = (flags.seqs[index], flags.line(index))
            for queue in list(shared.subscribers):
                try:
                    queue.put_nowait(item)
                except asyncio.QueueFull:
                    shared.subscribers.discard(queue)  # too slow: its stream ends
