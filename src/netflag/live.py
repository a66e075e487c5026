"""Live mode: a batch log (or a checkpoint), then a source's events as they arrive.

Each line takes replay's path (``parse_event`` -> ``Engine.apply`` ->
``flagged_line``), so the same events give the same bytes. Bad lines go to a
dead-letter sink with their source position. With a state directory the run
checkpoints every N events or S seconds and when it stops: sinks are flushed
(durable) first, then the engine snapshot and every position are written in one
atomic file, and only then is the source acknowledged. After a crash the run
resumes from that file; see "Live mode: exactly once" in ``docs/design.md``.
"""

from __future__ import annotations

import logging
import signal
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from netflag.checkpoint import Checkpoint, StateDir
from netflag.engine import Engine, Params, Purchase, Strategy
from netflag.errors import CheckpointError, RejectedLine
from netflag.io.events import LineError, parse_event
from netflag.io.output import flag_of, rejection_record
from netflag.io.reader import numbered_lines
from netflag.io.sinks import Sink
from netflag.io.sources import Source
from netflag.replay import Rejection, Rejects, load_batch, read_params

log = logging.getLogger("netflag.live")
POLL_LINES = 500  # lines taken from the source at a time
POLL_SECONDS = 0.2  # longest wait for a line: bounds how late a stop or a checkpoint is


@dataclass(slots=True)
class LiveSummary:
    """What a live run did: counts since the run began (across restarts) and this process's."""

    params: Params
    events: int = 0
    checked: int = 0
    flagged: int = 0
    rejected: int = 0
    handled: int = 0  # lines this process took from the source
    checkpoints: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.events:,} events, {self.checked:,} purchases checked, {self.flagged:,} flagged,"
            f" {self.rejected:,} rejected; this process: {self.handled:,} lines in"
            f" {self.seconds:.2f} s, {self.checkpoints:,} checkpoints"
            f" ({self.params.describe()})"
        )


class Live:
    """One live run: ``Live(batch, source, sinks, state=DIR).run()``.

    ``D``, ``T``, ``k`` override the batch log's parameters as in replay; with a
    checkpoint they must agree with it. ``on_status`` hears a short status line
    every ``status_seconds``.
    """

    def __init__(
        self,
        batch: Path,
        source: Source,
        sinks: Sequence[Sink],
        *,
        rejects: Sink | None = None,
        actions: Sink | None = None,
        max_recommendations: int = 10,
        strict: bool = False,
        state: Path | None = None,
        D: object = None,
        T: object = None,
        k: object = None,
        strategy: Strategy = "auto",
        checkpoint_every: int = 10_000,
        checkpoint_seconds: float = 10.0,
        on_status: Callable[[str], None] | None = None,
        status_seconds: float = 1.0,
    ) -> None:
        from netflag import __version__

        self.batch, self.source, self.sinks, self.rejects = batch, source, list(sinks), rejects
        self.overrides = (D, T, k)
        self.strategy: Strategy = strategy
        self.checkpoint_every, self.checkpoint_seconds = checkpoint_every, checkpoint_seconds
        self.on_status, self.status_seconds = on_status, status_seconds
        self.store = StateDir(state, __version__) if state is not None else None
        self.stopping = False
        self._outputs = [(sink.url, sink) for sink in self.sinks]
        if rejects is not None:
            self._outputs.append((f"rejects {rejects.url}", rejects))
        # Actions ride on the sink machinery: numbered like the flags, checkpointed, exactly once.
        self.actions, self.max_recommendations = actions, max_recommendations
        self.strict = strict
        if actions is not None:
            self._outputs.append((f"actions {actions.url}", actions))
        self._run = ""
        self._batch_loaded = False
        self._position: dict[str, Any] | None = None
        self._counts = {"events": 0, "checked": 0, "flagged": 0, "rejected": 0}
        self._pending = 0  # lines handled since the last checkpoint
        self._last_checkpoint = 0.0
        self._status_at = (0.0, 0)

    def stop(self) -> None:
        """Ask the run to stop after the current lines, with a final checkpoint (signal-safe)."""
        self.stopping = True

    def run(self, max_events: int | None = None, idle_timeout: float | None = None) -> LiveSummary:
        """Process lines until stopped, the source ends, ``max_events`` lines, or
        ``idle_timeout`` seconds without a line; checkpoint and close everything."""
        started = time.monotonic()
        handled = checkpoints = 0
        try:
            engine = self._start()
            checkpoints += self.store is not None  # _start wrote one
            last_line = self._last_checkpoint = time.monotonic()
            self._status_at = (last_line, 0)
            while not self.stopping and (max_events is None or handled < max_events):
                limit = POLL_LINES if max_events is None else min(POLL_LINES, max_events - handled)
                lines = self.source.poll(POLL_SECONDS, limit)
                for position, raw in lines:
                    self._handle(engine, position, raw)
                now = time.monotonic()
                if lines:
                    handled += len(lines)
                    self._pending += len(lines)
                    last_line = now
                    for _, sink in self._outputs:
                        sink.push()
                if self._pending and (
                    self._pending >= self.checkpoint_every
                    or now - self._last_checkpoint >= self.checkpoint_seconds
                ):
                    checkpoints += self._checkpoint(engine)
                self._status(now, handled)
                if (self.source.finished and not lines) or (
                    idle_timeout is not None and now - last_line >= idle_timeout
                ):
                    break
            checkpoints += self._checkpoint(engine)
        finally:
            self._close()
        summary = LiveSummary(engine.params, handled=handled, checkpoints=checkpoints)
        summary.events, summary.checked = self._counts["events"], self._counts["checked"]
        summary.flagged, summary.rejected = self._counts["flagged"], self._counts["rejected"]
        summary.seconds = time.monotonic() - started
        return summary

    def _start(self) -> Engine:
        """Resume from the checkpoint, or begin a run; load the batch if not done yet.

        Ends with a checkpoint (or, without a state directory, flushed sinks).
        """
        checkpoint = None
        if self.store is not None:
            self.store.lock()
            checkpoint = self.store.load()
        if checkpoint is None:
            first = next(numbered_lines(self.batch), None)
            params, _, _ = read_params(str(self.batch), first, *self.overrides)
            engine = Engine(params, strategy=self.strategy)
            self._run = uuid.uuid4().hex
            for _, sink in self._outputs:
                sink.resume(None, self._run)
            self._save(engine, [(url, sink.flush()) for url, sink in self._outputs])  # genesis
        else:
            self._check(checkpoint)
            try:
                engine = Engine.from_state(checkpoint.state, strategy=self.strategy)
            except (IndexError, KeyError, TypeError, ValueError) as error:
                raise CheckpointError(f"{self.store}: engine state is invalid ({error})") from None
            self._run, self._batch_loaded = checkpoint.run, checkpoint.batch_loaded
            self._position, self._counts = checkpoint.source_position, checkpoint.counts
            for (_, sink), (_, position) in zip(self._outputs, checkpoint.sinks, strict=True):
                sink.resume(position, self._run)
            so_far = f"{self._counts['events']:,}"
            log.info("resumed from %s (%s events so far)", checkpoint.source, so_far)
        if not self._batch_loaded:
            params = engine.params
            policy = Rejects(report=self._batch_reject)
            engine, applied, warnings = load_batch(
                self.batch, policy, D=params.D, T=params.T, k=params.k, strategy=self.strategy
            )
            for warning in warnings:
                log.warning("%s", warning)
            log.info("loaded %s batch events from %s", f"{applied:,}", self.batch)
            self._batch_loaded = True
        self.source.resume(self._position)
        self._checkpoint(engine)
        return engine

    def _check(self, checkpoint: Checkpoint) -> None:
        """Refuse a checkpoint that belongs to other inputs, outputs or parameters."""
        params = checkpoint.state.params
        D, T, k = self.overrides
        wanted = Params.of(
            params.D if D is None else D, params.T if T is None else T, params.k if k is None else k
        )
        where = str(self.store)
        if wanted != params:
            raise CheckpointError(
                f"{where} was made with {params.describe()}, not {wanted.describe()}:"
                " drop the options or remove the directory to start over"
            )
        if checkpoint.source != self.source.url:
            raise CheckpointError(
                f"{where} belongs to source {checkpoint.source}, not {self.source.url}"
            )
        urls = [url for url, _ in self._outputs]
        if [url for url, _ in checkpoint.sinks] != urls:
            had = ", ".join(url for url, _ in checkpoint.sinks) or "none"
            have = ", ".join(urls) or "none"
            raise CheckpointError(f"{where} was made with sinks {had}; this run has {have}")

    def _handle(self, engine: Engine, position: dict[str, Any], raw: bytes) -> None:
        try:
            event = parse_event(raw)
        except LineError as error:
            reason = str(error)
            where = self.source.describe(position)
            self._reject(where, reason, lambda: self.source.reject_record(position, reason, raw))
        else:
            self._counts["events"] += 1
            decision = engine.apply(event)
            if decision is not None:
                self._counts["checked"] += 1
                line = flag_of(raw, decision)
                if line is not None:
                    number = self._counts["flagged"] = self._counts["flagged"] + 1
                    for sink in self.sinks:
                        sink.write(number, line)
                    if self.actions is not None and isinstance(event, Purchase):
                        from netflag.analysis.actions import action_line

                        record = action_line(engine, event, decision, raw, self.max_recommendations)
                        self.actions.write(number, record)
        self._position = position

    def _reject(self, where: str, reason: str, record: Callable[[], bytes]) -> None:
        if self.strict:  # stop before the last checkpoint moves: a restart stops here again
            raise RejectedLine(where, None, reason)
        number = self._counts["rejected"] = self._counts["rejected"] + 1
        log.warning("%s: %s", where, reason)
        if self.rejects is not None:
            self.rejects.write(number, record())

    def _batch_reject(self, r: Rejection) -> None:
        """A bad batch line: the same dead-letter record as replay's rejects file."""
        where = f"{r.source}:{r.line}"
        self._reject(where, r.reason, lambda: rejection_record(r.source, r.line, r.reason, r.raw))

    def _save(self, engine: Engine, positions: list[tuple[str, dict[str, Any]]]) -> None:
        if self.store is None:
            return
        self.store.save(
            Checkpoint(
                engine.state(),
                self._run,
                self._batch_loaded,
                self.source.url,
                self._position,
                positions,
                dict(self._counts),
            )
        )

    def _checkpoint(self, engine: Engine) -> int:
        """Sinks durable, then state + positions in one atomic file, then the source acked."""
        positions = [(url, sink.flush()) for url, sink in self._outputs]
        self._save(engine, positions)
        if self._position is not None:
            self.source.commit(self._position)
        self._pending = 0
        self._last_checkpoint = time.monotonic()
        if self.store is None:
            return 0  # sinks flushed, source acked, but nothing to resume from
        log.info("checkpoint at %s", self._position)
        return 1

    def _status(self, now: float, handled: int) -> None:
        since, before = self._status_at
        if self.on_status is None or now - since < self.status_seconds:
            return
        self._status_at = (now, handled)
        rate = (handled - before) / (now - since) if now > since else 0.0
        c = self._counts
        self.on_status(
            f"{c['events']:,} events, {rate:,.0f}/s, {c['flagged']:,} flags, {c['rejected']:,}"
            f" rejected, lag {self.source.lag() or 'unknown'},"
            f" checkpoint {max(0.0, now - self._last_checkpoint):.0f} s ago"
        )

    def _close(self) -> None:
        for closing in [self.source.close, *(sink.close for _, sink in self._outputs)]:
            try:
                closing()
            except Exception:  # noqa: BLE001  (closing must not hide the real error)
                log.debug("error while closing", exc_info=True)
        if self.store is not None:
            self.store.unlock()


@contextmanager
def stop_on_signals(live: Live) -> Iterator[None]:
    """SIGTERM/SIGINT stop the run cleanly (final checkpoint); a second one stops it at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if live.stopping:
            raise KeyboardInterrupt
        log.warning("%s: stopping after a checkpoint", signal.Signals(signum).name)
        live.stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
