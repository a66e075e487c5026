"""Replay mode: a batch log builds the state, a stream log is checked event by event.

This is the pipeline behind ``netflag replay`` and ``run.sh``: files in,
``flagged_purchases.json`` out, every bad line reported and skipped. Its parts
(:func:`read_params`, :func:`load_batch`, :class:`Rejects`) serve other
surfaces that start from a batch log too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from netflag.engine import Decision, Engine, Event, Kernel, Params, Purchase, Strategy
from netflag.engine.params import parse_count, parse_multiplier
from netflag.errors import InputError, ParamsError, RejectedLine
from netflag.io.events import LineError, load_object, parse_event
from netflag.io.output import AtomicFile, flag_of, rejection_record
from netflag.io.reader import describe_os_error, numbered_lines

PARAMS_EXAMPLE = '{"D":"3", "T":"50"}'
# Batch logs this large are loaded column-wise (polars), smaller ones line by line.
BULK_MIN_BYTES = 8 * 1024 * 1024

# Called for every flag while the engine still stands at that moment.
FlagHook = Callable[[Engine, Purchase, Decision, bytes], None]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A skipped line: where it was (file or source, line or position), why, and its bytes."""

    source: str
    line: int
    reason: str
    raw: bytes

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


class Rejects:
    """What happens to bad lines: counted, reported, copied to a dead-letter file, or fatal."""

    def __init__(
        self,
        *,
        strict: bool = False,
        sink: BinaryIO | None = None,
        report: Callable[[Rejection], None] | None = None,
    ) -> None:
        self.strict = strict
        self.sink = sink
        self.report = report
        self.count = 0

    def __call__(self, rejection: Rejection) -> None:
        self.count += 1
        if self.strict:
            raise RejectedLine(rejection.source, rejection.line, rejection.reason)
        if self.sink is not None:
            self.sink.write(
                rejection_record(rejection.source, rejection.line, rejection.reason, rejection.raw)
            )
        if self.report is not None:
            self.report(rejection)

    def events(
        self, source: str, lines: Iterable[tuple[int, bytes]]
    ) -> Iterator[tuple[int, bytes, Event]]:
        """Parse numbered lines into ``(number, raw, event)``, handing bad ones to ``self``."""
        for number, raw in lines:
            try:
                event = parse_event(raw)
            except LineError as error:
                self(Rejection(source, number, str(error), raw))
                continue
            yield number, raw, event


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

    def __str__(self) -> str:
        return (
            f"{self.events:,} events read, {self.checked:,} purchases checked, "
            f"{self.flagged:,} flagged, {self.rejected:,} rejected "
            f"in {self.seconds:.2f} s ({self.params.describe()})"
        )


def read_params(
    source: str, first: tuple[int, bytes] | None, D: object, T: object, k: object
) -> tuple[Params, bool, list[str]]:
    """Parameters from the batch log's first line, overridden by explicit values.

    The line holds D and T, and may hold k (3 when absent), e.g.
    ``{"D":"3", "T":"50", "k":"2.5"}``.

    Returns the params, whether the first line was the parameters line (so it
    is not an event), and warnings about keys that were ignored.
    """
    values: dict[str, Any] = {}
    is_params_line = False
    if first is not None:
        try:
            values = load_object(first[1], literal_numbers=True)
            is_params_line = "event_type" not in values
        except LineError:
            pass
    where = f"{source}:{first[0]}" if first is not None else source
    if not is_params_line:
        values = {}
        if D is None or T is None:
            found = "an empty file" if first is None else "no parameters line"
            raise ParamsError(f"{where}: {found}; the first line must be like {PARAMS_EXAMPLE}")
    if k is not None:
        multiplier = parse_multiplier(k)  # the caller's k: its error names no file line
    else:
        try:
            multiplier = parse_multiplier(values.get("k", 3))
        except ParamsError as error:
            raise ParamsError(f"{where}: {error}") from None
    chosen: dict[str, int] = {}
    for name, override, minimum in (("D", D, 1), ("T", T, 2)):
        if override is not None:
            chosen[name] = parse_count(override, name, minimum)
        elif name not in values:
            raise ParamsError(f"{where}: missing parameter {name}; expected {PARAMS_EXAMPLE}")
        else:
            try:
                chosen[name] = parse_count(values[name], name, minimum)
            except ParamsError as error:
                raise ParamsError(f"{where}: {error}") from None
    params = Params(chosen["D"], chosen["T"], multiplier)
    unknown = sorted(set(values) - {"D", "T", "k"})
    warnings = [f"{where}: ignored unknown parameter {name!r}" for name in unknown]
    return params, is_params_line, warnings


def load_batch(
    batch: Path,
    rejects: Rejects,
    *,
    D: object = None,
    T: object = None,
    k: object = None,
    strategy: Strategy = "auto",
    kernel: Kernel | None = None,
    bulk: bool | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[Engine, int, list[str]]:
    """Read the batch log into a new engine; returns it, the events applied, and warnings.

    Three loaders, one result (the same engine state and the same rejects):
    with the compiled core, its canonical-line fast path
    (:func:`netflag.io.batchfeed.feed_file`); otherwise the columnar loader
    (:mod:`netflag.io.bulk`, polars) for files of ``BULK_MIN_BYTES`` or more,
    and one line at a time below. ``bulk=True`` forces the columnar loader,
    ``bulk=False`` the per-line one. ``strategy`` and ``kernel`` choose how the
    engine searches (same results).
    """
    first = next(numbered_lines(batch), None)
    params, skip_first, warnings = read_params(str(batch), first, D, T, k)
    params_line = first[0] if first is not None and skip_first else None
    source = str(batch)

    def reject(line: int, reason: str, raw: bytes) -> None:
        rejects(Rejection(source, line, reason, raw))

    engine = Engine(params, strategy=strategy, kernel=kernel)
    if bulk is None and engine.kernel == "compiled":
        from netflag.io.batchfeed import feed_file

        return engine, feed_file(engine, batch, params_line, reject, on_progress), warnings
    if bulk is None:
        bulk = batch.stat().st_size >= BULK_MIN_BYTES
    if bulk:
        from netflag.io.bulk import load_state

        loaded = load_state(batch, params, params_line, reject)
        if loaded is not None:
            if on_progress is not None:
                on_progress(batch.stat().st_size)
            state, applied = loaded
            return Engine.from_state(state, strategy=strategy, kernel=kernel), applied, warnings
    lines = numbered_lines(batch, on_progress)
    if params_line is not None:
        next(lines, None)
    applied = 0
    for _, _, event in rejects.events(source, lines):
        engine.apply(event, check=False)
        applied += 1
    return engine, applied, warnings


def check_inputs(out: Path, *inputs: Path) -> None:
    """Fail before any work: an input that cannot be opened, or an output that is an input."""
    for path in inputs:
        try:
            path.open("rb").close()
        except OSError as error:
            raise InputError(f"cannot read {path}: {describe_os_error(error)}") from None
        if out.exists() and out.samefile(path):
            raise InputError(f"{out} is also an input: refusing to overwrite it")


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
    on_progress: Callable[[int], None] | None = None,
    on_flag: FlagHook | None = None,
) -> ReplaySummary:
    """Replay ``batch`` then ``stream`` and write the flagged purchases to ``out``.

    ``out`` (and ``rejects``) appear only when the run succeeds, whole. In
    ``strict`` mode the first bad line raises :class:`RejectedLine`; otherwise
    bad lines go to ``on_reject`` and the rejects file and are skipped.
    ``on_progress`` hears the bytes consumed, for a progress bar; ``on_flag``
    hears each flag while the engine still stands at that moment.
    """
    started = time.perf_counter()
    check_inputs(out, batch, stream)
    with ExitStack() as stack:
        sink = stack.enter_context(AtomicFile(out))
        dead = stack.enter_context(AtomicFile(rejects)) if rejects else None
        policy = Rejects(strict=strict, sink=dead, report=on_reject)
        engine, applied, warnings = load_batch(
            batch,
            policy,
            D=D,
            T=T,
            k=k,
            strategy=strategy,
            kernel=kernel,
            bulk=bulk,
            on_progress=on_progress,
        )
        summary = ReplaySummary(engine.params, events=applied, warnings=warnings)
        for _, raw, event in policy.events(str(stream), numbered_lines(stream, on_progress)):
            summary.events += 1
            decision = engine.apply(event)
            if decision is None:
                continue
            summary.checked += 1
            line = flag_of(raw, decision)
            if line is not None:
                summary.flagged += 1
                sink.write(line)
                if on_flag is not None and isinstance(event, Purchase):
                    on_flag(engine, event, decision, raw)
        summary.rejected = policy.count
    summary.seconds = time.perf_counter() - started
    return summary
