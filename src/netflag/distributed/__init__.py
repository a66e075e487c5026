"""netflag on Ray, two ways: workers that each hold the whole state, or shards that each hold 1/P.

**Workers** (``--workers N``). Applying an event is cheap; deciding a purchase
(network + baseline) is where the time goes. So each worker (a Ray actor)
builds the same engine from one snapshot of the batch state, applies every
stream event in the same order, and decides only the purchases that fall to it
(round-robin by their position in the stream); the others it applies with
``check=False``. Each decision is the one a single process makes, so the
driver, merging results by stream position, writes the same bytes (see
"Workers on Ray" in ``docs/design.md``).

**Shards** (``--shards P``). Users are hashed to P actors, each holding only
its own users' state; the driver numbers the events, cuts epochs and runs each
check as a distributed BFS and gather, reads "as of" each check's arrival
(``docs/scaling.md``, "Partitioned state, built").

- :mod:`netflag.distributed.connect`: start or join Ray (token, quiet stderr), one-line errors;
- :mod:`netflag.distributed.ray_pool`: the pool of actors, a lost one in one line;
- :mod:`netflag.distributed.workers`: what a worker does with a chunk of lines;
- :mod:`netflag.distributed.fanout`: the driver side, chunks out and results back in order;
- :mod:`netflag.distributed.pipeline`: :class:`~netflag.distributed.pipeline.ShardedPipeline`,
  the workers for replay and live mode;
- :mod:`netflag.distributed.shards`: a shard node (its batch share, epochs, snapshots, figures);
- :mod:`netflag.distributed.nodes`: the nodes on Ray or in this process, and an epoch's calls;
- :mod:`netflag.distributed.sequencer`: the driver of partitioned state.

Nothing here imports Ray until a pool is started: the rest of netflag never pays for it.
"""

from __future__ import annotations
