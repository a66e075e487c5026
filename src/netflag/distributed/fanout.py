"""The driver side: state out once, lines out in chunks, results back merged by position.

:class:`Fanout` is the one integration point. It puts the batch state in Ray's
object store once (snapshot bytes as a read-only array, which every actor
maps), then each chunk of valid raw lines once, and hands the same chunk to
every worker; a few chunks are in flight at a time. Results come back as one
list per worker, each in chunk order, and are merged by index in the chunk: the
order one process would have produced them in. Replay and live mode use it
through :class:`~netflag.distributed.pipeline.ShardedPipeline`; report and
sweep through :meth:`Fanout.map`, each with its own :class:`~netflag.distributed.workers.Task`.

A worker that dies or fails stops the run with a :class:`~netflag.errors.WorkerError`
before anything of the unfinished chunks is written: replay then leaves no
output file, and live mode no checkpoint past the last one.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from netflag.distributed.ray_pool import WorkerPool, describe_failure
from netflag.engine import Engine
from netflag.engine.snapshot import dump_parts
from netflag.version import __version__

if TYPE_CHECKING:
    from netflag.distributed.workers import Result, Task

CHUNK_LINES = 2_000  # lines per chunk: big enough that a round trip is cheap per line
IN_FLIGHT = 3  # chunks handed out and not yet collected
Key = TypeVar("Key")


class Fanout:
    """Worker actors loaded with one engine's state, fed chunk after chunk in order."""

    def __init__(self, pool: WorkerPool, engine: Engine, task: Task) -> None:
        import numpy as np

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
