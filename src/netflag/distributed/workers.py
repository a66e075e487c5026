"""The worker: the whole engine, every event applied in order, its share of purchases decided.

A :class:`Worker` is a plain class; :mod:`netflag.distributed.ray_pool` makes
it a Ray actor. It loads the batch state from snapshot bytes (a read-only
array in Ray's object store, mapped, not copied, until the engine loads it),
then takes the stream in chunks of raw lines that the driver has already
parsed once (bad lines never reach a worker). Purchase number i of the stream
(counted from 0 by every worker alike) is decided by worker ``i % count``; the
others are applied with ``check=False``.

What a decision yields is the caller's business: it hands the workers a
:class:`Task` (a small picklable object) that builds a :class:`Decider` on each
worker's engine: flag lines for replay and live mode
(:class:`netflag.distributed.pipeline.FlagTask`), every check's numbers for the
report, every setting's flags for a sweep (both in :mod:`netflag.analysis`).
So this layer runs work it does not know. Results carry their index in the chunk.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from netflag.engine import Engine, Event, Purchase, Strategy
from netflag.engine.kernels import Kernel
from netflag.engine.snapshot import load
from netflag.io.events import parse_event
from netflag.version import __version__

# One result: its index in the chunk first, so the driver merges by position.
Result = tuple[Any, ...]


class Decider(Protocol):
    """What a worker does with the stream over its engine: apply every event, decide its share."""

    def apply(self, event: Event) -> None:
        """An event this worker does not decide: it only changes the state."""

    def check(self, at: int, event: Purchase, raw: bytes) -> Result | None:
        """Decide the purchase at index ``at`` of its chunk (and apply it); its result, if any."""


class Task(Protocol):
    """The work a caller hands the workers; pickled once, then built on every worker's engine."""

    def decider(self, engine: Engine) -> Decider:
        """The decider over ``engine``, a worker's copy of the state after the batch."""


class Worker:
    """One share of the checks over a full copy of the state."""

    def __init__(self, index: int, count: int) -> None:
        self.index = index
        self.count = count
        self.purchases = 0  # stream purchases seen: decides whose turn it is
        self.chunks = 0  # chunks taken: they must arrive in order
        self.engine: Engine | None = None
        self.decide: Decider | None = None

    def load(self, snapshot: Any, task: Task, strategy: Strategy, kernel: Kernel | None) -> int:
        """Build the engine from snapshot bytes; returns this process's id (for tests)."""
        self.purchases = self.chunks = 0  # a new run (an actor may serve several)
        state = load(memoryview(snapshot), version=__version__, where="worker state").state
        self.engine = engine = Engine.from_state(state, strategy=strategy, kernel=kernel)
        self.decide = task.decider(engine)
        return os.getpid()

    def run(self, number: int, lines: list[bytes]) -> list[Result]:
        """Apply chunk ``number`` (they come in order), deciding this worker's purchases."""
        decide = self.decide
        if number != self.chunks or decide is None:
            raise RuntimeError(f"worker {self.index} got chunk {number}, expected {self.chunks}")
        self.chunks += 1
        index, count = self.index, self.count
        seen = self.purchases
        out: list[Result] = []
        for at, raw in enumerate(lines):
            event = parse_event(raw)
            if type(event) is Purchase:
                mine = seen % count == index
                seen += 1
                if mine:
                    found = decide.check(at, event, raw)
                    if found is not None:
                        out.append(found)
                    continue
            decide.apply(event)
        self.purchases = seen
        return out
