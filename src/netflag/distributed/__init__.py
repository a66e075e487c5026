"""Workers on Ray: every worker holds the whole state, applies every event, decides its share.

Applying an event is cheap; deciding a purchase (network + baseline) is where
the time goes. So each worker (a Ray actor) builds the same engine from one
snapshot of the batch state, applies every stream event in the same order, and
decides only the purchases that fall to it (round-robin by their position in
the stream); the others it applies with ``check=False``. Each decision is the
one a single process makes, so the driver, merging results by stream position,
writes the same bytes (see "Workers on Ray" in ``docs/design.md``).

- :mod:`netflag.distributed.connect`: start or join Ray (token, quiet stderr), one-line errors;
- :mod:`netflag.distributed.ray_pool`: the pool of worker actors, a lost worker in one line;
- :mod:`netflag.distributed.workers`: what an actor does with a chunk of lines;
- :mod:`netflag.distributed.fanout`: the driver side, chunks out and results back in order,
  and :class:`~netflag.distributed.fanout.ShardedPipeline` for replay and live mode.

Nothing here imports Ray until a pool is started: the rest of netflag never pays for it.
"""

from __future__ import annotations
