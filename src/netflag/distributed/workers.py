"""The worker: the whole engine, every event applied in order, its share of purchases decided.

A :class:`Worker` is a plain class; :mod:`netflag.distributed.ray_pool` makes
it a Ray actor. It loads the batch state from snapshot bytes (a read-only
array in Ray's object store, mapped, not copied, until the engine loads it),
then takes the stream in chunks of raw lines that the driver has already
parsed once (bad lines never reach a worker). Purchase number i of the stream
(counted from 0 by every worker alike) is decided by worker ``i % count``; the
others are applied with ``check=False``. What a decision yields depends on the
task (:data:`Task`): flag lines (replay, live), every check's numbers (report),
or every setting's flags (sweep). Results carry their index in the chunk.
"""

from __future__ import annotations

from typing import Any

from netflag.engine import Engine, Event, Purchase, Strategy
from netflag.engine.kernels import Kernel
from netflag.io.events import parse_event
from netflag.io.output import flag_of

# ("flags", max_recommendations or None), ("checks",) or ("sweep", settings, walk_above)
Task = tuple[Any, ...]
# One result: its index in the chunk first, so the driver merges by position.
Result = tuple[Any, ...]


class Worker:
    """One share of the checks over a full copy of the state."""

    def __init__(self, index: int, count: int) -> None:
        self.index = index
        self.count = count
        self.purchases = 0  # stream purchases seen: decides whose turn it is
        self.chunks = 0  # chunks taken: they must arrive in order
        self.engine: Engine | None = None
        self.decide: Any = None

    def load(self, snapshot: Any, task: Task, strategy: Strategy, kernel: Kernel | None) -> int:
        """Build the engine from snapshot bytes; returns this process's id (for tests)."""
        import os

        from netflag.engine.snapshot import load
        from netflag.version import __version__

        self.purchases = self.chunks = 0  # a new run (an actor may serve several)
        state = load(memoryview(snapshot), version=__version__, where="worker state").state
        self.engine = engine = Engine.from_state(state, strategy=strategy, kernel=kernel)
        if task[0] == "flags":
            self.decide = _Flags(engine, task[1])
        elif task[0] == "checks":
            self.decide = _Checks(engine)
        elif task[0] == "sweep":
            self.decide = _Sweep(engine, task[1], task[2])
        else:
            raise ValueError(f"unknown task {task[0]!r}")
        return os.getpid()

    def run(self, number: int, lines: list[bytes]) -> list[Result]:
        """Apply chunk ``number`` (they come in order), deciding this worker's purchases."""
        if number != self.chunks or self.engine is None:
            raise RuntimeError(f"worker {self.index} got chunk {number}, expected {self.chunks}")
        self.chunks += 1
        decide = self.decide
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


class _Flags:
    """Replay and live: the flag line, and the action line when asked for."""

    def __init__(self, engine: Engine, limit: int | None) -> None:
        self.engine, self.limit = engine, limit

    def apply(self, event: Event) -> None:
        self.engine.apply(event, check=False)

    def check(self, at: int, event: Purchase, raw: bytes) -> Result | None:
        decision = self.engine.apply(event)
        flag = flag_of(raw, decision)
        if flag is None:
            return None
        action = None
        if self.limit is not None and decision is not None:
            from netflag.runtime.actions import action_line

            action = action_line(self.engine, event, decision, raw, self.limit)
        return (at, flag, action)


class _Checks:
    """Report: every check's network size, verdict and baseline."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def apply(self, event: Event) -> None:
        self.engine.apply(event, check=False)

    def check(self, at: int, event: Purchase, raw: bytes) -> Result | None:
        engine = self.engine
        decision = engine.apply(event)
        user = engine.user_number(event.user)
        if decision is None or user is None:
            raise RuntimeError("a checked purchase has a decision and a buyer")
        return (at, engine.network_size(user), decision.flagged, decision.baseline)


class _Sweep:
    """Sweep: every setting's verdict on this worker's purchases, by the one-pass sweeper."""

    def __init__(self, engine: Engine, settings: list[Any], walk_above: int | None) -> None:
        from netflag.analysis.sweep import SweepFlag, _Sweeper

        self.flags: dict[Any, list[SweepFlag]] = {setting: [] for setting in settings}
        self.sweeper = _Sweeper(engine, settings, self.flags, walk_above)
        self.order = {setting: n for n, setting in enumerate(settings)}

    def apply(self, event: Event) -> None:
        if type(event) is Purchase:
            self.sweeper.apply_purchase(event)
        else:
            self.sweeper.engine.apply(event, check=False)

    def check(self, at: int, event: Purchase, raw: bytes) -> Result | None:
        self.sweeper.check(event, at)
        self.sweeper.apply_purchase(event)
        found = [
            (self.order[setting], flag.baseline)
            for setting, flags in self.flags.items()
            for flag in flags
        ]
        for flags in self.flags.values():
            flags.clear()
        return (at, found) if found else None
