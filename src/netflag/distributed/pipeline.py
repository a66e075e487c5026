"""Replay and live mode on workers: a pipeline whose flags are decided on Ray.

:class:`ShardedPipeline` is a :class:`~netflag.runtime.pipeline.Pipeline` that
parses, counts and applies every line here and sends the valid ones out in
chunks; :class:`FlagTask` is what each worker does with them: the flag line
(and the action line when asked for) of every purchase that falls to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netflag.distributed.fanout import CHUNK_LINES, Fanout
from netflag.engine import Engine, Event, Purchase
from netflag.io.output import flag_of
from netflag.runtime.actions import ActionWriter, FlagHook, action_line
from netflag.runtime.pipeline import APPLIED, Outcome, Pipeline
from netflag.runtime.rejects import Rejects, Writer

if TYPE_CHECKING:
    from netflag.distributed.ray_pool import WorkerPool
    from netflag.distributed.workers import Result


@dataclass(frozen=True, slots=True)
class FlagTask:
    """Replay and live mode's work: flag lines, and action lines when ``limit`` is set."""

    limit: int | None = None  # the recommendations an action line holds; None: no actions

    def decider(self, engine: Engine) -> _Flags:
        return _Flags(engine, self.limit)


class _Flags:
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
            action = action_line(self.engine, event, decision, raw, self.limit)
        return (at, flag, action)


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
            if not isinstance(on_flag, ActionWriter):
                raise TypeError("with workers, only an ActionWriter can hear the flags")
            self._on_action = on_flag.write_line
            max_recommendations = on_flag.limit
        limit = max_recommendations if self._on_action is not None else None
        self.apply = apply
        self.chunk = chunk
        self._lines: list[bytes] = []
        self.fanout = Fanout(pool, engine, FlagTask(limit))

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
        return APPLIED[type(event)]

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
