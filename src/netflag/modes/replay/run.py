"""Replay mode: a batch log builds the state, a stream log is checked event by event.

This is what runs behind ``netflag replay`` and ``run.sh``: files in,
``flagged_purchases.json`` out, every bad line reported and skipped. The batch
is loaded by :func:`netflag.runtime.batch.load_batch` and each stream line
takes :class:`netflag.runtime.pipeline.Pipeline`, as in live mode and the
service.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from netflag.engine import Kernel, Params, Strategy
from netflag.errors import InputError
from netflag.io.counts import count
from netflag.io.output import AtomicFile, is_stdout, replaced, same_file
from netflag.io.reader import describe_os_error, numbered_lines
from netflag.runtime.actions import FlagHook
from netflag.runtime.batch import load_batch
from netflag.runtime.pipeline import FileWriter, Intake, Pipeline
from netflag.runtime.progress import TICK_LINES, Progress, count_lines
from netflag.runtime.rejects import Rejection, Rejects

if TYPE_CHECKING:
    from netflag.distributed.ray_pool import WorkerPool
    from netflag.distributed.sequencer import Sequencer

__all__ = ["ReplaySummary", "check_inputs", "replay"]


@dataclass(slots=True)
class ReplaySummary:
    """What a replay did, for the closing line and for tests."""

    params: Params
    events: int = 0
    checked: int = 0
    flagged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls, params: Params, applied: int, stream: Intake, warnings: list[str], started: float
    ) -> ReplaySummary:
        """The summary of a run that applied ``applied`` batch events, then ``stream``'s
        lines, and began at ``started`` (``time.perf_counter()``)."""
        events = applied + stream.events
        summary = cls(params, events, stream.checked, stream.flagged, stream.rejected)
        summary.warnings = warnings
        summary.seconds = time.perf_counter() - started
        return summary

    def __str__(self) -> str:
        return (
            f"{count(self.events, 'event')} read, {count(self.checked, 'purchase')} checked, "
            f"{self.flagged:,} flagged, {self.rejected:,} rejected "
            f"in {self.seconds:.2f} s ({self.params.describe()})"
        )


def check_inputs(out: Path, *inputs: Path, outputs: Sequence[Path] = ()) -> None:
    """Fail before any work: an input that cannot be opened, an output file that is an
    input or another output (one rename would undo the other), or two outputs on stdout."""
    for path in inputs:
        try:
            path.open("rb").close()
        except OSError as error:
            raise InputError(f"cannot read {path}: {describe_os_error(error)}") from None
    written = [out, *outputs]
    for index, path in enumerate(written):
        if not replaced(path):  # stdout, a FIFO, a device: written to, never replaced
            continue
        if any(same_file(path, source) for source in inputs):
            raise InputError(f"{path} is also an input: refusing to overwrite it")
        if any(same_file(path, other) for other in written[:index]):
            raise InputError(f"{path} is written twice: give each output its own file")
    if sum(map(is_stdout, written)) > 1:
        raise InputError("only one output can be - (stdout)")


def replay(
    batch: Path,
    stream: Path,
    out: Path,
    *,
    D: object = None,
    T: object = None,
    k: object = None,
    rejects: Path | None = None,
    strict: bool = False,
    strategy: Strategy = "auto",
    kernel: Kernel | None = None,
    bulk: bool | None = None,
    on_reject: Callable[[Rejection], None] | None = None,
    progress: Progress | None = None,
    on_flag: FlagHook | None = None,
    workers: WorkerPool | None = None,
) -> ReplaySummary:
    """Replay ``batch`` then ``stream`` and write the flagged purchases to ``out``.

    ``out`` (and ``rejects``) appear only when the run succeeds, whole. In
    ``strict`` mode the first bad line raises :class:`RejectedLine`; otherwise
    bad lines go to ``on_reject`` and the rejects file and are skipped.
    ``progress`` hears the phases (those of :func:`load_batch`, then "check
    stream" in events, with checks and flags); ``on_flag`` hears each flag
    while the engine still stands at that moment. With ``workers`` (a
    :class:`~netflag.distributed.ray_pool.WorkerPool`) the stream's purchases
    are decided on Ray workers, with the same output; ``on_flag`` may then only
    be an :class:`~netflag.runtime.actions.ActionWriter`.
    """
    started = time.perf_counter()
    check_inputs(out, batch, stream, outputs=[] if rejects is None else [rejects])
    with ExitStack() as stack:
        sink = stack.enter_context(AtomicFile(out))
        dead = stack.enter_context(AtomicFile(rejects)) if rejects else None
        policy = Rejects(strict=strict, sink=FileWriter(dead) if dead else None, report=on_reject)
        engine, applied, warnings = load_batch(
            batch,
            policy,
            D=D,
            T=T,
            k=k,
            strategy=strategy,
            kernel=kernel,
            bulk=bulk,
            progress=progress,
        )
        if workers is None:
            pipeline = Pipeline(engine, policy, [FileWriter(sink)], on_flag=on_flag)
        else:
            # Imported only when asked for: a short replay should not pay for it at start-up.
            from netflag.distributed.pipeline import ShardedPipeline

            pipeline = ShardedPipeline(
                engine, policy, [FileWriter(sink)], pool=workers, on_flag=on_flag, apply=False
            )
            stack.callback(pipeline.close)
        check_stream(stream, pipeline, progress)
    if progress is not None:
        progress.finish()
    return ReplaySummary.of(engine.params, applied, pipeline, warnings, started)


def check_stream(stream: Path, pipeline: Pipeline | Sequencer, progress: Progress | None) -> None:
    """Every line of ``stream`` through ``pipeline``, then its flush; ``progress`` hears
    the "check stream" phase, in events, with the checks and flags so far."""
    name = str(stream)
    if progress is not None:
        progress.phase("check stream", count_lines(stream), "events")
    number = 0
    for number, raw in numbered_lines(stream):
        pipeline.step(raw, name, number)
        if progress is not None and not number % TICK_LINES:
            progress.update(number, pipeline.checked, pipeline.flagged)
    pipeline.flush()
    if progress is not None:
        progress.update(number, pipeline.checked, pipeline.flagged)
