"""What the service answers without writing: a score, an explanation, the stats, new flags.

Queries run on the writer's event loop, so they never see the engine half-way
through an event. An explanation rebuilds the engine as it stood at the event
(from the snapshot and the log) on a thread, a few at a time; flags and
explanations show durable events only (up to ``synced``), while a score or the
stats may already count a group whose fsync is under way.
"""

from __future__ import annotations

import asyncio
import ctypes
import sys
import time
from typing import Any

from netflag.analysis.common import format_timestamp
from netflag.analysis.explain import Explanation, check_agrees, explain
from netflag.engine import Amount, Engine, Purchase
from netflag.engine.snapshot import load_file
from netflag.io.events import LineError, parse_event
from netflag.modes.serve.errors import Gone, NotFound, Unavailable
from netflag.modes.serve.shared import Shared
from netflag.runtime.journal import SNAPSHOT

EXPLAINS_AT_ONCE = 2  # each rebuilds an engine from the snapshot: memory and a core
END = (-1, b"")  # on a subscriber's queue: its stream ends (the server is stopping)
# glibc keeps what a thread's engine freed in that thread's heap; malloc_trim gives it back.
_TRIM = getattr(ctypes.CDLL(None), "malloc_trim", None) if sys.platform == "linux" else None


class Queries:
    """The service's read side, over the state it shares with the writer."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self._explaining = asyncio.Semaphore(EXPLAINS_AT_ONCE)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ending = False

    def score(self, user: str, amount: Amount) -> Explanation:
        """Decide a purchase of ``amount`` by ``user`` now, without recording it."""
        return explain(self.shared.engine, user, amount)

    async def explain(self, seq: int) -> Explanation:
        """:meth:`explain_seq` on a thread, a few at a time."""
        async with self._explaining:
            try:
                return await asyncio.to_thread(self.explain_seq, seq)
            finally:
                if _TRIM is not None:
                    _TRIM(0)

    def explain_seq(self, seq: int) -> Explanation:
        """Explain the purchase at ``seq`` as it was decided (rebuilt from the snapshot
        and the log; slow, so run it in a thread)."""
        shared = self.shared
        journal, synced = shared.journal, shared.synced
        if not 1 <= seq <= synced:
            raise NotFound(f"no event {seq} in the log (it holds 1..{synced})")
        for _ in range(3):  # a snapshot taken meanwhile may drop the segments we need
            loaded = load_file(journal.path / SNAPSHOT, version=journal.version)
            base = int(loaded.extra["seq"])
            if seq <= base:
                raise Gone(
                    f"event {seq} is no longer in the log: the snapshot at event {base} replaced"
                    " the log up to there (serve --keep-log keeps every event explainable)"
                )
            engine = Engine.from_state(loaded.state, strategy=shared.options.strategy)
            expected = base + 1
            for number, raw in journal.read_since(base, seq):
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
        """The counters, the log position and the engine's size (``GET /v1/stats``)."""
        shared = self.shared
        engine = shared.engine
        return {
            **shared.pipeline.counts(),
            "seq": shared.synced,
            "users": engine.users,
            "D": engine.params.D,
            "T": engine.params.T,
            "k": str(engine.params.k),
            "snapshot_seq": shared.snapshot_seq,
            "uptime_seconds": round(time.monotonic() - shared.metrics.started, 3),
        }

    def subscribe(self, backlog: int = 1000) -> asyncio.Queue[tuple[int, bytes]]:
        """A queue the writer puts each new durable flag on (dropped when it fills up)."""
        queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(backlog)
        self._loop = asyncio.get_running_loop()
        if self._ending:
            queue.put_nowait(END)
        else:
            self.shared.subscribers.add(queue)
        return queue

    def end_streams(self) -> None:
        """End every flag stream, from any thread or a signal handler: an open stream
        would otherwise hold a stopping server until its graceful timeout."""
        self._ending = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._end_streams)

    def _end_streams(self) -> None:
        for queue in list(self.shared.subscribers):
            self.shared.subscribers.discard(queue)
            while queue.full():
                queue.get_nowait()
            queue.put_nowait(END)

    def unsubscribe(self, queue: asyncio.Queue[tuple[int, bytes]]) -> None:
        self.shared.subscribers.discard(queue)
