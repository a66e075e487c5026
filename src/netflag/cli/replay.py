"""``netflag replay`` and ``netflag generate``: the batch-file commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from netflag.cli.app import (
    DegreeOption,
    MultiplierOption,
    RayOption,
    RayTokenOption,
    ShardsOption,
    StrictOption,
    TrackedOption,
    WorkersOption,
    actor_pool,
    app,
    fail,
    interruptible,
    output_path,
)
from netflag.cli.progress import MIN_BYTES, ProgressOption, progress_display, total_size
from netflag.errors import InputError, NetflagError

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
        typer.Argument(
            metavar="OUT",
            parser=output_path,
            help="Where to write the flagged purchases (JSON Lines); - for stdout.",
        ),
    ],
    D: DegreeOption = None,
    T: TrackedOption = None,
    k: MultiplierOption = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            parser=output_path,
            help="Also write each rejected line, with file, line and reason, here.",
        ),
    ] = None,
    strict: StrictOption = False,
    progress: ProgressOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
    actions: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            parser=output_path,
            help="Also write each flag's feed audience and friend recommendations here.",
        ),
    ] = None,
    max_recommendations: Annotated[
        int, typer.Option(min=0, help="At most this many friend recommendations per flag.")
    ] = 10,
    workers: WorkersOption = None,
    shards: ShardsOption = None,
    stats: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            parser=output_path,
            help="With --shards: write each shard's users, state bytes, peak RSS, traffic,"
            " work and seconds by phase, and the messages, bytes and work per check, here"
            " (JSON).",
        ),
    ] = None,
    ray: RayOption = None,
    ray_token_file: RayTokenOption = None,
) -> None:
    """Replay BATCH then STREAM and write every flagged purchase to OUT.

    Bad lines are reported on stderr as FILE:LINE: reason and skipped. OUT is
    always written (empty when nothing is flagged), and only when the run
    succeeds: a file is written under a temporary name and renamed over it (a
    symlink's target is replaced, the link stays); - (stdout), a FIFO or a
    device such as /dev/null gets the whole output at the end. --rejects and
    --actions are written the same way.
    """
    from netflag.modes.replay import check_inputs
    from netflag.modes.replay import replay as run_replay
    from netflag.runtime.actions import actions_file

    large = total_size(batch, stream) >= MIN_BYTES
    try:
        if shards is not None and actions is not None:
            raise InputError("--actions is not available with --shards yet: run without it")
        if shards is None and stats is not None:
            raise InputError("--stats needs --shards P: it describes the shards")
        check_inputs(out, batch, stream, outputs=[p for p in (rejects, actions, stats) if p])
        with (
            interruptible(),
            actor_pool(workers, shards, ray, ray_token_file) as pool,
            progress_display(progress, large) as display,
            actions_file(actions, max_recommendations) as on_flag,
        ):
            files = (batch, stream, out)
            common: dict[str, Any] = {"D": D, "T": T, "k": k, "rejects": rejects}
            common |= {"strict": strict, "progress": display.progress}
            common["on_reject"] = lambda rejection: display.say(str(rejection))
            if shards is not None:  # numpy and the shards' modules: imported only for them
                from netflag.modes.replay.sharded import replay_on_shards

                summary = replay_on_shards(*files, shards, pool=pool, stats=stats, **common)
            else:
                summary = run_replay(*files, on_flag=on_flag, workers=pool, **common)
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
        typer.Argument(
            metavar="OUTDIR",
            parser=output_path,
            help="Folder for batch_log.json and stream_log.json.",
        ),
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
    """Write a realistic synthetic batch log and stream log into OUTDIR.

    Both files appear when both are whole (each written under a temporary name,
    then renamed): an interrupted or failed run leaves neither.
    """
    import time

    from netflag.devtools.generate import PRESETS
    from netflag.devtools.generate import generate as run_generate
    from netflag.io.counts import count
    from netflag.io.output import is_stdout

    if preset not in PRESETS:
        raise typer.BadParameter(
            f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}", param_hint="--preset"
        )
    if is_stdout(outdir):
        raise typer.BadParameter(
            "- (stdout) cannot hold two files: name a folder", param_hint="OUTDIR"
        )
    started = time.perf_counter()
    lines = PRESETS[preset].batch_lines + PRESETS[preset].stream_lines
    try:
        with interruptible(), progress_display(progress, lines >= GENERATE_MIN_LINES) as display:
            shown = display.progress
            if shown is not None:
                shown.phase("write logs", lines, "lines")
            result = run_generate(
                outdir, preset, seed, progress=None if shown is None else _lines_done(shown)
            )
            if shown is not None:
                shown.finish()
    except NetflagError as error:
        raise fail(error) from None
    sys.stderr.write(
        f"netflag: wrote {count(result.batch_lines, 'batch line')} and "
        f"{count(result.stream_lines, 'stream line')} ({count(result.users, 'user')}) to {outdir} "
        f"in {time.perf_counter() - started:.2f} s\n"
    )
