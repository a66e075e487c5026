"""``netflag replay`` and ``netflag generate``: the batch-file commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netflag.cli.app import (
    DegreeOption,
    MultiplierOption,
    RayOption,
    StrictOption,
    TrackedOption,
    WorkersOption,
    app,
    fail,
)
from netflag.cli.progress import MIN_BYTES, ProgressOption, progress_display, total_size
from netflag.errors import NetflagError

if TYPE_CHECKING:
    from netflag.runtime.progress import Progress

GENERATE_MIN_LINES = 50_000  # fewer lines are written in a blink: no bar unless asked


@app.command()
def replay(
    batch: Annotated[
        Path, typer.Argument(metavar="BATCH", help="Batch log: parameters line, then events.")
    ],
    stream: Annotated[
        Path, typer.Argument(metavar="STREAM", help="Stream log: the events to check, in order.")
    ],
    out: Annotated[
        Path,
        typer.Argument(metavar="OUT", help="Where to write the flagged purchases (JSON Lines)."),
    ],
    D: DegreeOption = None,
    T: TrackedOption = None,
    k: MultiplierOption = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Also write each rejected line, with file, line and reason, here."),
    ] = None,
    strict: StrictOption = False,
    progress: ProgressOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
    actions: Annotated[
        Path | None,
        typer.Option(help="Also write each flag's feed audience and friend recommendations here."),
    ] = None,
    max_recommendations: Annotated[
        int, typer.Option(min=0, help="At most this many friend recommendations per flag.")
    ] = 10,
    workers: WorkersOption = None,
    ray: RayOption = None,
) -> None:
    """Replay BATCH then STREAM and write every flagged purchase to OUT.

    Bad lines are reported on stderr as FILE:LINE: reason and skipped. OUT is
    always written (empty when nothing is flagged).
    """
    from netflag.distributed.ray_pool import optional_pool
    from netflag.modes.replay import replay as run_replay
    from netflag.runtime.actions import actions_file

    large = total_size(batch, stream) >= MIN_BYTES
    try:
        with (
            optional_pool(workers, ray) as pool,
            progress_display(progress, large) as display,
            actions_file(actions, max_recommendations) as on_flag,
        ):
            summary = run_replay(
                batch,
                stream,
                out,
                D=D,
                T=T,
                k=k,
                rejects=rejects,
                strict=strict,
                on_reject=lambda rejection: display.say(str(rejection)),
                progress=display.progress,
                on_flag=on_flag,
                workers=pool,
            )
    except NetflagError as error:
        raise fail(error) from None
    for warning in summary.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if not quiet:
        sys.stderr.write(f"netflag: {summary}\n")


def _lines_done(progress: Progress) -> Callable[[int, int], None]:
    """generate's ``progress(done, total)`` as the display's counts."""
    return lambda done, _total: progress.update(done)


def _presets(incomplete: str) -> list[str]:
    """Shell completion for --preset."""
    from netflag.devtools.generate import PRESETS

    return [name for name in PRESETS if name.startswith(incomplete)]


@app.command()
def generate(
    outdir: Annotated[
        Path,
        typer.Argument(metavar="OUTDIR", help="Folder for batch_log.json and stream_log.json."),
    ],
    preset: Annotated[
        str,
        typer.Option(
            help="small (1k users), medium (10k, 500k lines), large (100k, 5M) or xl (1M, 20M).",
            autocompletion=_presets,
        ),
    ] = "small",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 0,
    progress: ProgressOption = None,
) -> None:
    """Write a realistic synthetic batch log and stream log into OUTDIR."""
    import time

    from netflag.devtools.generate import PRESETS
    from netflag.devtools.generate import generate as run_generate

    if preset not in PRESETS:
        raise typer.BadParameter(
            f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}", param_hint="--preset"
        )
    started = time.perf_counter()
    lines = PRESETS[preset].batch_lines + PRESETS[preset].stream_lines
    with progress_display(progress, lines >= GENERATE_MIN_LINES) as display:
        shown = display.progress
        if shown is not None:
            shown.phase("write logs", lines, "lines")
        try:
            result = run_generate(
                outdir, preset, seed, progress=None if shown is None else _lines_done(shown)
            )
        except OSError as error:
            raise fail(NetflagError(f"cannot write {outdir}: {error.strerror}")) from None
        if shown is not None:
            shown.finish()
    sys.stderr.write(
        f"netflag: wrote {result.batch_lines:,} batch lines and {result.stream_lines:,} "
        f"stream lines ({result.users:,} users) to {outdir} "
        f"in {time.perf_counter() - started:.2f} s\n"
    )
