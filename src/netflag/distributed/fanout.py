"""The driver side: state out once, lines out in chunks, results back merged by position.

:class:`Fanout` is the one integration point. It puts the batch state in Ray's
object store once (snapshot bytes as a read-only array, which every actor
maps), then each chunk of valid raw lines once, and hands the same chunk to
every worker; a few chunks are in flight at a time. Results come back as one
list per worker, each in chunk order, and are merged by index in the chunk: the
order one process would have produced them in. Replay and live mode use it
through :class:`ShardedPipeline`; report and sweep through :meth:`Fanout.map`.

A worker that dies or fails stops the run with a :class:`~netflag.errors.WorkerError`
before anything of the unfinished chunks is written: replay then leaves no
output file, and live mode no checkpoint past the last one.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from netflag.engine import Engine
from netflag.runtime.pipeline import _APPLIED, Outcome, Pipeline
from netflag.runtime.rejects import Rejects, Writer

if TYPE_CHECKING:
    from netflag.distributed.ray_pool import WorkerPool
    from netflag.distributed.workers import Result, Task
    from netflag.runtime.actions import FlagHook

CHUNK_LINES = 2_000  # lines per chunk: big enough that a round trip is cheap per line
IN_FLIGHT = 3  # chunks handed out and not yet collected
Key = TypeVar("Key")


class Fanout:
    """Worker actors loaded with one engine's state, fed chunk after chunk in order."""

    def __init__(self, pool: WorkerPool, engine: Engine, task: Task) -> None:
        import numpy as np

        from netflag.engine.snapshot import dump_parts
        from netflag.version import __version__

        self.pool = pool
        ray = pool.ray
        self.actors = pool.actors()
        self._pending: deque[list[Any]] = deque()
        self._sent = 0
        snapshot = np.frombuffer(
            b"".join(dump_parts(engine.state(), version=__version__)), dtype=np.uint8
        )
        state = ray.put(snapshot)
        strategy, kernel = engine.strategy, engine.kernel
        self._get([actor.load.remote(state, task, strategy, kernel) for actor in self.actors])

    def _get(self, refs: list[Any]) -> list[Any]:
        """Wait for ``refs``; a dead or failing worker is one line, and the end of the run."""
        from netflag.distributed.ray_pool import describe_failure

        try:
            return list(self.pool.ray.get(refs))
        except self.pool.ray.exceptions.RayError as error:
            self.close(failed=True)
            raise describe_failure(error) from None

    def submit(self, lines: list[bytes]) -> list[list[Result]]:
        """Hand a chunk to every worker; returns the chunks finished meanwhile, oldest first."""
        ray = self.pool.ray
        chunk = ray.put(lines)
        self._pending.append([actor.run.remote(self._sent, chunk) for actor in self.actors])
        if self.pool.on_chunk is not None:
            self.pool.on_chunk(self._sent, self.actors)
        self._sent += 1
        done = []
        while len(self._pending) > IN_FLIGHT:
            done.append(self._collect())
        return done

    def drain(self) -> list[list[Result]]:
        """Every chunk still out, oldest first."""
        return [self._collect() for _ in range(len(self._pending))]

    def _collect(self) -> list[Result]:
        """The oldest chunk's results from every worker, merged by index in the chunk."""
        shares = self._get(self._pending.popleft())
        return list(heapq.merge(*shares, key=itemgetter(0)))

    def map(
        self, lines: Iterable[tuple[Key, bytes]], size: int = CHUNK_LINES
    ) -> Iterator[tuple[Key, Result]]:
        """Feed ``(key, raw)`` valid lines through the workers; yield ``(key, result)`` in order.

        A result's key is its line's; lines whose purchase was not decided, or
        decided with nothing to say, yield nothing.
        """
        keys: deque[list[Key]] = deque()
        batch: list[bytes] = []
        batch_keys: list[Key] = []

        def finished(chunks: list[list[Result]]) -> Iterator[tuple[Key, Result]]:
            for results in chunks:
                chunk_keys = keys.popleft()
                for result in results:
                    yield chunk_keys[result[0]], result

        for key, raw in lines:
            batch.append(raw)
            batch_keys.append(key)
            if len(batch) >= size:
                keys.append(batch_keys)
                yield from finished(self.submit(batch))
                batch, batch_keys = [], []
        if batch:
            keys.append(batch_keys)
            yield from finished(self.submit(batch))
        yield from finished(self.drain())

    def close(self, *, failed: bool = False) -> None:
        """Hand the actors back for another run, or end them after a failure (idempotent).

        Chunks still out count as a failure: their results would meet the next run.
        """
        if self._pending or failed:
            self.pool.release(self.actors)
        else:
            self.pool.give_back(self.actors)
        self._pending.clear()
        self.actors = []


class ShardedPipeline(Pipeline):
    """A :class:`~netflag.runtime.pipeline.Pipeline` whose decisions come from the workers.

    :meth:`step` parses a line (a bad one is rejected here, exactly as in one
    process), counts it, applies it to the driver's own engine when ``apply``
    (live mode checkpoints that engine) and queues it; flags are written, in
    stream order and numbered as one process numbers them, as chunks come back
    and at :meth:`flush`. The :class:`Outcome` of a step carries no decision.
    ``on_flag`` may only be replay's actions writer
    (:class:`~netflag.runtime.actions.ActionWriter`): its lines are made on
    the worker, where the engine stands at the moment of the flag.
    """

    def __init__(
        self,
        engine: Engine,
        rejects: Rejects,
        sinks: Sequence[Writer] = (),
        *,
        pool: WorkerPool,
        actions: Writer | None = None,
        max_recommendations: int = 10,
        on_flag: FlagHook | None = None,
        counts: Mapping[str, int] | None = None,
        apply: bool = True,
        chunk: int = CHUNK_LINES,
    ) -> None:
        super().__init__(
            engine,
            rejects,
            sinks,
            actions=actions,
            max_recommendations=max_recommendations,
            counts=counts,
        )
        self._on_action: Callable[[bytes], None] | None = None
        if actions is not None:
            self._on_action = lambda line: actions.write(self.flagged, line)
        if on_flag is not None:
            from netflag.runtime.actions import ActionWriter

            if not isinstance(on_flag, ActionWriter):
                raise TypeError("with workers, only an ActionWriter can hear the flags")
            self._on_action = on_flag.write_line
            max_recommendations = on_flag.limit
        limit = max_recommendations if self._on_action is not None else None
        self.apply = apply
        self.chunk = chunk
        self._lines: list[bytes] = []
        self.fanout = Fanout(pool, engine, ("flags", limit))

    def step(
        self,
        raw: bytes,
        source: str,
        line: int | None = None,
        *,
        record: Callable[[str], bytes] | None = None,
    ) -> Outcome:
        """Parse, count and queue ``raw`` (or reject it); its flag is written later."""
        event = self.admit(raw, source, line, record=record, apply=self.apply)
        if isinstance(event, Outcome):
            return event
        self._lines.append(raw)
        if len(self._lines) >= self.chunk:
            self._write(self.fanout.submit(self._lines))
            self._lines = []
        return _APPLIED[type(event)]

    def flush(self) -> None:
        """Send what is queued and write every flag still out: the outputs are now whole."""
        if self._lines:
            self._write(self.fanout.submit(self._lines))
            self._lines = []
        self._write(self.fanout.drain())

    def close(self) -> None:
        """End the workers."""
        self.fanout.close()

    def _write(self, chunks: list[list[Result]]) -> None:
        for results in chunks:
            for _, flag, action in results:
                number = self.flagged = self.flagged + 1
                for sink in self.sinks:
                    sink.write(number, flag)
                if action is not None and self._on_action is not None:
                    self._on_action(action)
