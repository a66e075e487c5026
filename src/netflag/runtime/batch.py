"""Start from a batch log: its parameters line, then the engine its events build.

Every surface that begins with a batch log (replay, live, serve, the analyses)
reads it here, so the parameters and the loaded state are the same whichever
surface asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import Any

from netflag.engine import Engine, Kernel, Params, Strategy
from netflag.engine.params import parse_count, parse_multiplier
from netflag.errors import ParamsError
from netflag.io.events import LineError, load_object
from netflag.io.reader import numbered_lines, read_once
from netflag.runtime.progress import Progress
from netflag.runtime.rejects import Rejection, Rejects

__all__ = ["BULK_MIN_BYTES", "PARAMS_EXAMPLE", "load_batch", "read_params"]

PARAMS_EXAMPLE = '{"D":"3", "T":"50"}'
# Without the compiled core, batch logs this large are loaded column-wise (polars),
# smaller ones line by line (with it, its fast path loads them all).
BULK_MIN_BYTES = 8 * 1024 * 1024


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
    progress: Progress | None = None,
) -> tuple[Engine, int, list[str]]:
    """Read the batch log into a new engine; returns it, the events applied, and warnings.

    Three loaders, one result (the same engine state and the same rejects):
    with the compiled core, its canonical-line fast path
    (:func:`netflag.io.batchfeed.feed_file`); otherwise the columnar loader
    (:mod:`netflag.io.bulk`, polars) for files of ``BULK_MIN_BYTES`` or more,
    and one line at a time below. ``bulk=True`` forces the columnar loader,
    ``bulk=False`` the per-line one. ``strategy`` and ``kernel`` choose how the
    engine searches (same results). ``progress`` hears the phases: "load batch"
    in bytes (the state is built as lines are read), or, column-wise, "load
    batch" then "build state", neither measurable as it goes (spinners).
    The engine comes back packed (:meth:`Engine.pack`).
    """
    # A pipe (`<(zcat batch.json.gz)`) can be read only once: one pass, line by line.
    once = read_once(batch)
    if once and progress is not None:
        progress.phase("load batch")
    lines = numbered_lines(batch, progress.advance if once and progress is not None else None)
    first = next(lines, None)
    params, skip_first, warnings = read_params(str(batch), first, D, T, k)
    params_line = first[0] if first is not None and skip_first else None
    source = str(batch)
    engine = Engine(params, strategy=strategy, kernel=kernel)
    if once:
        if first is not None and params_line is None:
            lines = chain([first], lines)
        return _packed(engine, _apply_lines(engine, rejects, source, lines), warnings)
    size = batch.stat().st_size
    advance = None if progress is None else progress.advance
    if bulk is None and engine.kernel == "compiled":
        from netflag.io.batchfeed import feed_file

        def ordinary(line: int, raw: bytes) -> None:
            _apply_lines(engine, rejects, source, [(line, raw)])

        if progress is not None:
            progress.phase("load batch", size, "bytes")
        return _packed(engine, feed_file(engine, batch, params_line, ordinary, advance), warnings)
    if bulk is None:
        bulk = size >= BULK_MIN_BYTES
    if bulk:
        from netflag.io.bulk import load_state

        if progress is not None:  # polars reads the file whole: nothing to measure meanwhile
            progress.phase("load batch", detail="column-wise, the whole file at once")
        loaded = load_state(
            batch,
            params,
            params_line,
            lambda line, reason, raw: rejects(Rejection(source, line, reason, raw)),
        )
        if loaded is not None:
            if progress is not None:
                progress.phase("build state", detail="from the columns")
            state, applied = loaded
            return Engine.from_state(state, strategy=strategy, kernel=kernel), applied, warnings
    if progress is not None:
        progress.phase("load batch", size, "bytes")
    lines = numbered_lines(batch, advance)
    if params_line is not None:
        next(lines, None)
    return _packed(engine, _apply_lines(engine, rejects, source, lines), warnings)


def _packed(engine: Engine, applied: int, warnings: list[str]) -> tuple[Engine, int, list[str]]:
    """load_batch's answer, the engine laid out for checks first (Engine.from_state
    packs its own)."""
    engine.pack()
    return engine, applied, warnings


def _apply_lines(
    engine: Engine, rejects: Rejects, source: str, lines: Iterable[tuple[int, bytes]]
) -> int:
    """Apply batch lines one by one (bad ones to ``rejects``); returns the events applied."""
    applied = 0
    for _, _, event in rejects.events(source, lines):
        engine.apply(event, check=False)
        applied += 1
    return applied
