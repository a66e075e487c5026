"""What a live run is given: its outputs, and the options that say how it behaves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from netflag.engine import Strategy
from netflag.io.sinks import Sink
from netflag.modes.live.status import LiveStatus
from netflag.runtime.progress import Progress

if TYPE_CHECKING:
    from netflag.distributed.ray_pool import WorkerPool


@dataclass(frozen=True, slots=True)
class LiveOutputs:
    """Where a live run writes: flags to every sink, bad lines and actions to their own.

    Every one of them is checkpointed with the run, so each record lands exactly once.
    """

    sinks: Sequence[Sink]
    rejects: Sink | None = None
    actions: Sink | None = None

    def named(self) -> list[tuple[str, Sink]]:
        """Each output under the name its position is checkpointed with, in checkpoint order."""
        named = [(sink.url, sink) for sink in self.sinks]
        if self.rejects is not None:
            named.append((f"rejects {self.rejects.url}", self.rejects))
        if self.actions is not None:
            named.append((f"actions {self.actions.url}", self.actions))
        return named


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """How a live run behaves; the defaults are ``netflag live``'s.

    ``state`` is the checkpoint directory (None: every start is a fresh run).
    ``D``, ``T``, ``k`` override the batch log's parameters as in replay; with a
    checkpoint they must agree with it. ``on_status`` hears a :class:`LiveStatus`
    every ``status_seconds``; ``progress`` hears the start-up's phases (restore
    the checkpoint or load the batch, write the first checkpoint), then ``finish``.
    ``workers`` (a :class:`~netflag.distributed.ray_pool.WorkerPool`) decides the
    purchases on Ray workers, each poll's lines as one chunk; this process keeps
    applying every event to its own engine, so checkpoints are unchanged.
    ``shards`` splits the state over that many shard nodes instead (actors of
    ``workers`` when given, else objects in this process): each checkpoint's
    snapshot is then every shard's state, saved beside the journal.
    """

    state: Path | None = None
    D: object = None
    T: object = None
    k: object = None
    strategy: Strategy = "auto"
    strict: bool = False
    max_recommendations: int = 10
    checkpoint_every: int = 10_000
    checkpoint_seconds: float = 10.0
    snapshot_every: int = 1_000_000
    on_status: Callable[[LiveStatus], None] | None = None
    status_seconds: float = 1.0
    progress: Progress | None = None
    workers: WorkerPool | None = None
    shards: int | None = None
