"""``netflag explain``, ``netflag report`` and ``netflag sweep``: what a flag leads to.

Thin shells over :mod:`netflag.analysis`: parse options, run, render with rich
(or ``--json``). Rendering lives in :mod:`netflag.cli.render`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netflag.cli.app import (
    DegreeOption,
    MultiplierOption,
    RayOption,
    RayTokenOption,
    StrictOption,
    TrackedOption,
    WorkersOption,
    app,
    fail,
    interruptible,
    output_path,
)
from netflag.cli.progress import MIN_BYTES, ProgressOption, progress_display, total_size
from netflag.errors import NetflagError
from netflag.io.counts import count

if TYPE_CHECKING:
    from netflag.runtime.rejects import Rejection, Rejects

BatchArg = Annotated[
    Path, typer.Argument(metavar="BATCH", help="Batch log: parameters line, then events.")
]
StreamArg = Annotated[
    Path, typer.Argument(metavar="STREAM", help="Stream log: the events to check, in order.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _rejects(strict: bool, say: Callable[[str], None]) -> Rejects:
    """Bad lines are printed as FILE:LINE: reason and skipped (or fatal with --strict)."""
    from netflag.runtime.rejects import Rejects

    def report(rejection: Rejection) -> None:
        say(str(rejection))

    return Rejects(strict=strict, report=report)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")


@app.command()
def explain(
    batch: BatchArg,
    stream: Annotated[
        Path | None,
        typer.Argument(metavar="STREAM", help="Stream log (needed with --line)."),
    ] = None,
    line: Annotated[
        int | None,
        typer.Option(min=1, help="Explain the stream purchase on this line of STREAM."),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="Explain a purchase by this user after the whole log.")
    ] = None,
    amount: Annotated[
        str | None, typer.Option(help="The amount of that purchase (with --user).")
    ] = None,
    D: DegreeOption = None,
    T: TrackedOption = None,
    k: MultiplierOption = None,
    strict: StrictOption = False,
    json: JsonOption = False,
    progress: ProgressOption = None,
) -> None:
    """Explain a decision: network, baseline, mean, sd, z-score.

    Shows the buyer's network per distance, the baseline purchases used (newest
    first), mean, sd, threshold and z-score. Either --line N (the stream
    purchase on line N, as replay decides it) or --user U --amount A (a
    purchase arriving after BATCH and STREAM).
    """
    from netflag.analysis.explain import explain_end, explain_line
    from netflag.analysis.logs import open_logs
    from netflag.cli.render import print_explanation
    from netflag.engine import Amount, AmountError

    if (line is None) == (user is None):
        raise typer.BadParameter("give either --line or --user (with --amount)")
    if user is not None and amount is None:
        raise typer.BadParameter("--user needs --amount", param_hint="--amount")
    try:
        value = None if amount is None else Amount.from_text(amount)
    except AmountError as error:
        raise typer.BadParameter(str(error), param_hint="--amount") from None
    large = total_size(batch, stream) >= MIN_BYTES
    try:
        with interruptible("nothing printed"), progress_display(progress, large) as display:
            rejects = _rejects(strict, display.say)
            logs = open_logs(batch, stream, rejects, D=D, T=T, k=k, progress=display.progress)
            if line is not None:
                found = explain_line(logs, line)
            else:
                assert value is not None  # noqa: S101 - checked above: --user needs --amount
                found = explain_end(logs, user or "", value)
    except NetflagError as error:
        raise fail(error) from None
    _warn(logs.warnings)
    if json:
        import orjson

        sys.stdout.write(orjson.dumps(found.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_explanation(found)


@app.command()
def report(
    batch: BatchArg,
    stream: StreamArg,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            parser=output_path,
            help="Write each table as NAME.csv and NAME.json, and report.html, here.",
        ),
    ] = None,
    html: Annotated[
        bool, typer.Option(help="With --out, also write report.html (needs plotly).")
    ] = True,
    top: Annotated[int, typer.Option(min=0, help="Rows per ranking table (0 for all).")] = 10,
    D: DegreeOption = None,
    T: TrackedOption = None,
    k: MultiplierOption = None,
    strict: StrictOption = False,
    json: JsonOption = False,
    progress: ProgressOption = None,
    workers: WorkersOption = None,
    ray: RayOption = None,
    ray_token_file: RayTokenOption = None,
) -> None:
    """Replay BATCH then STREAM; report busiest times, flags, anomalies.

    Busiest timestamps by purchases and by amount, the flags, the top
    anomalies, flags over time and network sizes. Prints the tables (or
    --json); with --out DIR also writes CSV and JSON per table and one
    self-contained HTML page with interactive charts, all of them once the run
    succeeds (each under a temporary name, then renamed), or none.
    """
    from netflag.analysis.logs import open_logs
    from netflag.analysis.report_data import collect
    from netflag.analysis.report_tables import report_tables
    from netflag.analysis.tables import table_files, tables_json
    from netflag.cli.render import print_tables
    from netflag.distributed.ray_pool import optional_pool
    from netflag.io.output import is_stdout, write_all

    if out is not None and is_stdout(out):
        raise typer.BadParameter(
            "- (stdout) is not a folder; --json prints the tables on stdout", param_hint="--out"
        )
    started = time.perf_counter()
    try:
        if out is not None and html:
            from netflag.analysis.report_html import require_plotly

            require_plotly()  # before the replay, not after
        with (
            interruptible(),
            optional_pool(workers, ray, ray_token_file) as pool,
            progress_display(progress, total_size(batch, stream) >= MIN_BYTES) as display,
        ):
            rejects = _rejects(strict, display.say)
            logs = open_logs(batch, stream, rejects, D=D, T=T, k=k, progress=display.progress)
            data = collect(logs, pool)
            tables = report_tables(data, top)
            files = table_files(out, tables) if out is not None else {}
            if out is not None and html:
                from netflag.analysis.report_html import render_html

                files[out / "report.html"] = render_html(data, tables).encode()
            written = write_all(files)  # all of them, or none
    except NetflagError as error:
        raise fail(error) from None
    _warn(logs.warnings)
    if json:
        summary = {"checked": data.checked_total, "flagged": data.flagged}
        sys.stdout.buffer.write(tables_json(tables, **summary))
    else:
        print_tables(tables)
    where = f", {count(len(written), 'file')} in {out}" if out is not None else ""
    sys.stderr.write(
        f"netflag: {count(data.checked_total, 'purchase')} checked, {data.flagged:,} flagged, "
        f"{logs.rejects.count:,} rejected{where} in {time.perf_counter() - started:.2f} s\n"
    )


@app.command()
def sweep(
    batch: BatchArg,
    stream: StreamArg,
    D: Annotated[
        str | None,
        typer.Option("--D", "-D", help="Degrees: a range 1..4, a list 1,3 or both (1..3,5)."),
    ] = None,
    T: Annotated[
        str | None, typer.Option("--T", "-T", help="Tracked purchases: a list such as 10,50,200.")
    ] = None,
    k: Annotated[str, typer.Option("--k", "-k", help="Multipliers: a list such as 2,2.5,3.")] = "3",
    strict: StrictOption = False,
    json: JsonOption = False,
    progress: ProgressOption = None,
    workers: WorkersOption = None,
    ray: RayOption = None,
    ray_token_file: RayTokenOption = None,
) -> None:
    """Count the flags of every (D, T, k) setting in one pass.

    Each is compared with the default, the batch log's own D and T with k = 3:
    overlap counts the flags a setting shares with it, added the others, missed
    the default's flags it lacks. Without --D/--T, the batch log's value is the
    only one.
    """
    from netflag.analysis.logs import open_logs
    from netflag.analysis.sweep import Setting, grid, parse_counts, parse_multipliers
    from netflag.analysis.sweep import sweep as run_sweep
    from netflag.cli.render import print_sweep, sweep_json
    from netflag.distributed.ray_pool import optional_pool

    started = time.perf_counter()
    try:
        Ds = parse_counts(D, "D", 1) if D is not None else None
        Ts = parse_counts(T, "T", 2) if T is not None else None
        ks = parse_multipliers(k)
        with (
            interruptible("nothing printed"),
            optional_pool(workers, ray, ray_token_file) as pool,
            progress_display(progress, total_size(batch, stream) >= MIN_BYTES) as display,
        ):
            logs = open_logs(
                batch,
                stream,
                _rejects(strict, display.say),
                D=max(Ds) if Ds else None,
                T=max(Ts) if Ts else None,
                progress=display.progress,
            )
            Ds, Ts = Ds or [logs.params.D], Ts or [logs.params.T]
            settings = grid(Ds, Ts, ks)
            written = logs.written
            default = (
                Setting(written.D, written.T, Fraction(3))
                if written is not None
                else Setting(Ds[0], Ts[0], Fraction(3))
            )
            result = run_sweep(logs, settings, default, workers=pool)
    except NetflagError as error:
        raise fail(error) from None
    _warn(logs.warnings)
    if json:
        sys.stdout.buffer.write(sweep_json(result))
    else:
        print_sweep(result)
    sys.stderr.write(
        f"netflag: {count(len(settings), 'setting')}, {count(result.checked, 'purchase')} checked"
        f" in one pass, {logs.rejects.count:,} rejected in {time.perf_counter() - started:.2f} s\n"
    )
