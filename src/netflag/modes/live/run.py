"""Live mode: a batch log (or a checkpoint), then a source's events as they arrive.

Each line takes replay's path (:class:`netflag.runtime.pipeline.Pipeline`), so
the same events give the same bytes. Bad lines go to a dead-letter sink with
their source position. With a state directory every line is logged to a
journal, and the run checkpoints every N events or S seconds and when it
stops: sinks are made durable first, then a mark with every position is
appended under one fsync (now and then an engine snapshot instead), and only
then is the source acknowledged. After a crash the run resumes from the last
mark (:mod:`netflag.modes.live.resume`); see "Live mode: exactly once" in
``docs/design.md``.
"""

from __future__ import annotations

import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from netflag.distributed.nodes import shard_nodes
from netflag.distributed.pipeline import ShardedPipeline
from netflag.distributed.sequencer import Sequencer
from netflag.engine import Params
from netflag.errors import InputError
from netflag.io.counts import count
from netflag.io.reader import numbered_lines
from netflag.io.sources import Source
from netflag.modes.live.options import LiveOptions, LiveOutputs
from netflag.modes.live.resume import Resumed, resume
from netflag.modes.live.shards import Stepper, load_shards, snapshot_shards
from netflag.modes.live.status import LiveStatus, LiveSummary, info, log, warn
from netflag.runtime.batch import load_batch, read_params
from netflag.runtime.checkpoint import Checkpoint
from netflag.runtime.journal import Journal
from netflag.runtime.pipeline import COUNTERS, Pipeline
from netflag.runtime.rejects import Rejects
from netflag.version import __version__

__all__ = ["Live", "LiveOptions", "LiveOutputs", "LiveStatus", "LiveSummary"]

POLL_LINES = 500  # lines taken from the source at a time
POLL_SECONDS = 0.2  # longest wait for a line: bounds how late a stop or a checkpoint is


class Live:
    """One live run: ``Live(batch, source, LiveOutputs([sink]), LiveOptions(state=DIR)).run()``."""

    def __init__(
        self,
        batch: Path,
        source: Source,
        outputs: LiveOutputs,
        options: LiveOptions | None = None,
    ) -> None:
        self.batch, self.source, self.outputs = batch, source, outputs
        self.options = options = options or LiveOptions()
        state = options.state
        self.journal = Journal(state, __version__) if state is not None else None
        self.stopping = False
        # Rejects and actions ride on the sink machinery: numbered, checkpointed, exactly once.
        self._outputs = outputs.named()
        self._run = ""
        self._batch_loaded = False
        self._position: dict[str, Any] | None = None
        self._pending = 0  # lines handled since the last checkpoint
        self._unsnapped = 0  # lines logged since the last snapshot
        self._last_checkpoint = 0.0
        self._status_at = (0.0, 0)
        self._pipeline: Stepper | None = None

    def stop(self) -> None:
        """Ask the run to stop after the current lines, with a final checkpoint (signal-safe)."""
        self.stopping = True

    def run(self, max_events: int | None = None, idle_timeout: float | None = None) -> LiveSummary:
        """Process lines until stopped, the source ends, ``max_events`` lines, or
        ``idle_timeout`` seconds without a line; checkpoint and close everything."""
        started = time.monotonic()
        handled = checkpoints = 0
        source, options, journal = self.source, self.options, self.journal
        try:
            pipeline = self._start()
            checkpoints += journal is not None  # _start wrote one
            last_line = self._last_checkpoint = time.monotonic()
            self._status_at = (last_line, 0)
            while not self.stopping and (max_events is None or handled < max_events):
                limit = POLL_LINES if max_events is None else min(POLL_LINES, max_events - handled)
                lines = source.poll(POLL_SECONDS, limit)
                if lines and journal is not None:
                    journal.append([raw.rstrip(b"\r\n") for _, raw in lines])
                for position, raw in lines:
                    self._handle(pipeline, position, raw)
                pipeline.flush()  # decisions made elsewhere are written before any checkpoint
                now = time.monotonic()
                if lines:
                    handled += len(lines)
                    self._pending += len(lines)
                    self._unsnapped += len(lines)
                    last_line = now
                    for _, sink in self._outputs:
                        sink.push()
                if self._pending and (
                    self._pending >= options.checkpoint_every
                    or now - self._last_checkpoint >= options.checkpoint_seconds
                ):
                    checkpoints += self._checkpoint(pipeline)
                self._status(now, handled, pipeline)
                if (source.finished and not lines) or (
                    idle_timeout is not None and now - last_line >= idle_timeout
                ):
                    break
            checkpoints += self._checkpoint(pipeline, snapshot=True)
        finally:
            self._close()
        counts = pipeline.counts()
        summary = LiveSummary(pipeline.params, **counts, handled=handled, checkpoints=checkpoints)
        summary.seconds = time.monotonic() - started
        return summary

    def _start(self) -> Stepper:
        """Resume from the journal, or begin a run; load the batch if not done yet.

        Ends with a checkpoint (or, without a state directory, flushed sinks).
        """
        options, progress = self.options, self.options.progress
        if options.shards is not None and self.outputs.actions is not None:
            raise InputError("--actions is not available with --shards yet: run without it")
        resumed = Resumed()
        if self.journal is not None:
            urls = [url for url, _ in self._outputs]
            wanted = (options.D, options.T, options.k)
            shards = options.shards
            make = None if shards is None else partial(shard_nodes, shards, pool=options.workers)
            resumed = resume(
                self.journal, wanted, self.source.url, urls, options.strategy, progress, make
            )
        engine, checkpoint, self._unsnapped = resumed.engine, resumed.checkpoint, resumed.unsnapped
        counts = dict.fromkeys(COUNTERS, 0)
        if checkpoint is None:
            first = next(numbered_lines(self.batch), None)
            params, _, _ = read_params(str(self.batch), first, options.D, options.T, options.k)
            self._run = uuid.uuid4().hex
            for _, sink in self._outputs:
                sink.resume(None, self._run)
            positions = [(url, sink.flush()) for url, sink in self._outputs]
            self._mark(self._checkpoint_of(params, positions, counts))  # genesis
        else:
            params = checkpoint.params
            self._run, self._batch_loaded = checkpoint.run, checkpoint.batch_loaded
            self._position, counts = checkpoint.source_position, checkpoint.counts
            for (_, sink), (_, position) in zip(self._outputs, checkpoint.sinks, strict=True):
                sink.resume(position, self._run)
            so_far, at = counts["events"], self.source.position_text(self._position)
            info(
                f"resumed from {checkpoint.source} at {at} ({count(so_far, 'event')} so far)",
                events=so_far,
                position=self._position,
            )
        # Strict: stop before the last checkpoint moves, so a restart stops here again.
        rejected, dead = counts.get("rejected", 0), self.outputs.rejects
        rejects = Rejects(strict=options.strict, sink=dead, report=warn, count=rejected)
        if options.shards is not None:
            start = resumed.shards
            if start is None:
                nodes = shard_nodes(options.shards, params, options.workers)
                start = load_shards(nodes, self.batch, params, rejects, progress)
                self._batch_loaded = True
            self._pipeline = start.sequencer(params, rejects, self.outputs.sinks, counts)
            return self._begin(self._pipeline, resumed.shards is None)
        snapshot = engine is None
        if engine is None:
            engine, applied, warnings = load_batch(
                self.batch,
                rejects,
                D=params.D,
                T=params.T,
                k=params.k,
                strategy=options.strategy,
                progress=progress,
            )
            for warning in warnings:
                log.warning("%s", warning)
            info(f"loaded {count(applied, 'batch event')} from {self.batch}", events=applied)
            self._batch_loaded = True
        pipeline_class: type[Pipeline] = Pipeline
        extra: dict[str, Any] = {}
        if options.workers is not None:
            pipeline_class, extra = ShardedPipeline, {"pool": options.workers}
        pipeline = self._pipeline = pipeline_class(
            engine,
            rejects,
            self.outputs.sinks,
            actions=self.outputs.actions,
            max_recommendations=options.max_recommendations,
            counts=counts,
            **extra,
        )
        return self._begin(pipeline, snapshot)

    def _begin(self, pipeline: Stepper, snapshot: bool) -> Stepper:
        """Hand the source its position and write the start-up checkpoint."""
        self.source.resume(self._position, None if self.journal is None else self._run)
        if self.options.progress is not None and self.journal is not None:
            self.options.progress.phase("write checkpoint")
        self._checkpoint(pipeline, snapshot=snapshot)
        if self.options.progress is not None:
            self.options.progress.finish()
        return pipeline

    def _handle(self, pipeline: Stepper, position: dict[str, Any], raw: bytes) -> None:
        """One line down the shared path; a dead letter names its source position."""
        source = self.source

        def record(reason: str) -> bytes:
            return source.reject_record(position, reason, raw)

        pipeline.step(raw, source.describe(position), record=record)
        self._position = position

    def _checkpoint_of(
        self, params: Params, positions: list[tuple[str, dict[str, Any]]], counts: dict[str, int]
    ) -> Checkpoint:
        return Checkpoint(
            params,
            self._run,
            self._batch_loaded,
            self.source.url,
            self._position,
            positions,
            counts,
        )

    def _mark(self, checkpoint: Checkpoint) -> None:
        """Vouch for every line logged so far: one record, one fsync."""
        if self.journal is not None:
            self.journal.append([], {"mark": checkpoint.to_json()})
            self.journal.sync()

    def _checkpoint(self, pipeline: Stepper, *, snapshot: bool = False) -> int:
        """Sinks durable, then a mark with every position in the log, then the source acked.

        A snapshot takes the mark's place when ``snapshot`` (after the batch
        load, at the stop) and every ``snapshot_every`` lines, so a restart
        reads a bounded log.
        """
        positions = [(url, sink.flush()) for url, sink in self._outputs]
        checkpoint = self._checkpoint_of(pipeline.params, positions, pipeline.counts())
        journal = self.journal
        if journal is not None and (snapshot or self._unsnapped >= self.options.snapshot_every):
            # The snapshot is the checkpoint (it carries the positions): no mark may ever
            # claim a state that neither a snapshot nor the log holds.
            if isinstance(pipeline, Sequencer):
                snapshot_shards(journal, pipeline, checkpoint)
            else:
                engine = pipeline.engine
                journal.save_snapshot(engine.state(), journal.roll(), checkpoint.to_json())
            self._unsnapped = 0
        else:
            self._mark(checkpoint)
        if self._position is not None:
            self.source.commit(self._position)
        self._pending = 0
        self._last_checkpoint = time.monotonic()
        if journal is None:
            return 0  # sinks flushed, source acked, but nothing to resume from
        at = self.source.position_text(self._position)
        info(f"checkpoint at {at}", position=self._position)  # words for people, data for logs
        return 1

    def _status(self, now: float, handled: int, pipeline: Stepper) -> None:
        since, before = self._status_at
        on_status = self.options.on_status
        if on_status is None or now - since < self.options.status_seconds:
            return
        self._status_at = (now, handled)
        rate = (handled - before) / (now - since) if now > since else 0.0
        on_status(
            LiveStatus(
                pipeline.events,
                rate,
                pipeline.flagged,
                pipeline.rejected,
                self.source.lag(),
                max(0.0, now - self._last_checkpoint),
            )
        )

    def _close(self) -> None:
        closers = [self.source.close, *(sink.close for _, sink in self._outputs)]
        if self._pipeline is not None:
            closers.insert(0, self._pipeline.close)
        for closing in closers:
            try:
                closing()
            except Exception:  # noqa: BLE001  (closing must not hide the real error)
                log.debug("error while closing", exc_info=True)
        if self.journal is not None:
            self.journal.close()
