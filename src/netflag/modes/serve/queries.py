"""What the service answers without writing: a score, an explanation, the stats, new flags.

Queries run on the writer's event loop, so they never see the engine half-way
through an event. An explanation rebuilds the engine as it stood at the event
(from the snapshot and the log) in a process of its own
(:mod:`~netflag.modes.serve.explainer`); flags and explanations show durable
events only (up to ``synced``), while a score or the stats may already count a
group whose fsync is under way.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from netflag.analysis.explain import Explanation, explain
from netflag.engine import Amount
from netflag.modes.serve.explainer import Explainer, explain_logged
from netflag.modes.serve.shared import Shared

END = (-1, b"")  # on a subscriber's queue: its stream ends (the server is stopping)


class Queries:
    """The service's read side, over the state it shares with the writer."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        journal = shared.journal
        self.explainer = Explainer(journal.path, journal.version, shared.options.strategy)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ending = False

    def score(self, user: str, amount: Amount) -> Explanation:
        """Decide a purchase of ``amount`` by ``user`` now, without recording it."""
        return explain(self.shared.engine, user, amount)

    async def explain(self, seq: int) -> Explanation:
        """Explain the purchase at ``seq`` as it was decided, in a process of its own."""
        return await self.explainer.explain(seq, self.shared.synced)

    def explain_seq(self, seq: int) -> Explanation:
        """:meth:`explain` here and now (slow: the engine is rebuilt on this thread)."""
        shared = self.shared
        journal = shared.journal
        return explain_logged(
            journal.path, journal.version, shared.options.strategy, seq, shared.synced
        )

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
