"""``netflag bench``: measure replay against the parse floor, checks per second, scaling."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Annotated

import typer

from netflag.cli.app import app, fail
from netflag.errors import NetflagError


def default_data() -> Path:
    """Where workloads are kept unless --data says otherwise (resolved per run, not per import)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "netflag" / "bench"


def has_redis() -> bool:
    """Whether the redis package (extra ``redis``) is importable."""
    from importlib.util import find_spec

    return find_spec("redis") is not None


def has_serve() -> bool:
    """Whether the service's packages (extra ``serve``) are importable."""
    from importlib.util import find_spec

    return all(find_spec(name) for name in ("fastapi", "uvicorn", "prometheus_client"))


def machine() -> str:
    """A short description of this machine (and of the engine measured) for the record."""
    from netflag.engine import default_kernel

    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()},"
        f" {default_kernel()} core"
    )


def _worker_counts(text: str) -> tuple[int, ...]:
    """``1,2`` -> (1, 2), after checking Ray is there (before minutes of work, not after)."""
    from netflag.distributed.ray_pool import import_ray

    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected numbers such as 1,2, got {text!r}") from None
    if not counts or min(counts) < 1:
        raise typer.BadParameter(f"expected numbers of at least 1, got {text!r}")
    try:
        import_ray()
    except NetflagError as error:
        raise fail(error) from None
    return counts


@app.command()
def bench(
    out: Annotated[
        Path, typer.Option(help="Folder for results.json, results.md, scaling.png.")
    ] = Path("bench-results"),
    data: Annotated[
        Path | None,
        typer.Option(
            help="Where generated workloads are kept and reused.",
            show_default="$XDG_CACHE_HOME/netflag/bench or ~/.cache/netflag/bench",
        ),
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Runs of replay and floor; medians.")] = 3,
    curves: Annotated[bool, typer.Option(help="Also measure the scaling curves.")] = True,
    large: Annotated[bool, typer.Option(help="Also replay the large preset (5.1M lines).")] = False,
    xl: Annotated[
        bool,
        typer.Option(
            help="Also replay the xl preset (1M users, 20.2M lines) and add 1M users to the curve."
        ),
    ] = False,
    live: Annotated[
        bool, typer.Option(help="Also time live mode against a local redis-server.")
    ] = True,
    serve: Annotated[
        bool, typer.Option(help="Also time netflag serve on loopback (needs netflag[serve]).")
    ] = True,
    quick: Annotated[
        bool, typer.Option(help="Tiny workloads: checks the harness works, not the speed.")
    ] = False,
    workers: Annotated[
        str | None,
        typer.Option(
            metavar="N,M",
            help="Also time the stream phase on these numbers of Ray workers (e.g. 1,2).",
        ),
    ] = None,
    shards: Annotated[
        str | None,
        typer.Option(
            metavar="N,M",
            help="Also time replay on these numbers of Ray shards (e.g. 1,2) against one"
            " process; each run's --stats is kept as OUT/shards-N.json.",
        ),
    ] = None,
    before: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="An earlier run's results.json: its curves are drawn dashed beside this "
            "run's, and each point's ratio to it is printed.",
        ),
    ] = None,
) -> None:
    """Generate workloads, time each in its own process, print a table.

    Rows: replay against the orjson parse floor (end to end, medians), checked
    purchases per second at D=1, 2, 3, 4 and 6, loading a checkpoint, start-up
    time, the reference engine's speed on a small log, live mode against a
    local redis-server, and (with --large, --xl) the large and xl presets; each
    with its target and whether it holds. Curves: checks per second against
    users, D and T, drawn into OUT/scaling.png. OUT/results.md holds the same
    table in Markdown.
    """
    from rich.console import Console
    from rich.table import Table

    from netflag.devtools.bench.plot import plot_curves, read_curves, require_matplotlib
    from netflag.devtools.bench.suite import FULL, QUICK, Suite, cells
    from netflag.io.output import write_all

    def say(line: str) -> None:
        sys.stderr.write(f"bench: {line}\n")

    earlier = None
    if before is not None and not curves:
        raise fail(NetflagError("--before compares curves: drop --no-curves"))
    if curves:
        try:
            require_matplotlib()  # before minutes of work, not after
            earlier = read_curves(before) if before is not None else None
        except NetflagError as error:
            raise fail(error) from None
    if serve and not has_serve():
        say('serve rows skipped: pip install "netflag[serve]" to measure them')
        serve = False
    if live and not has_redis():
        say('live mode row skipped: pip install "netflag[redis]" to measure it')
        live = False
    suite = Suite(data or default_data(), QUICK if quick else FULL, repeat, say, xl=xl)
    try:
        steps = [suite.replay_vs_floor, suite.checks, suite.snapshot, suite.startup]
        steps += [suite.reference]
        steps += [suite.live] if live else []
        steps += [suite.serve] if serve else []
        if workers is not None:
            counts = _worker_counts(workers)

            def ray_workers() -> None:
                suite.workers(counts)

            steps += [ray_workers]
        if shards is not None:
            shard_counts = _worker_counts(shards)

            def ray_shards() -> None:
                suite.shards(shard_counts, out)

            steps += [ray_shards]
        steps += [suite.large] if large else []
        steps += [suite.xl] if xl else []
        steps += [suite.curves] if curves else []
        for step in steps:
            say(step.__name__.replace("_", " "))
            step()
        command = " ".join(["netflag", *sys.argv[1:]]) if "bench" in sys.argv else "netflag bench"
        write_all(  # as every output: each whole, renamed into place (io.output.AtomicFile)
            {
                out / "results.json": suite.results.to_json(),
                out / "results.md": suite.results.to_markdown(machine(), command).encode(),
            }
        )
        if suite.results.curves:
            plot_curves(suite.results.curves, out / "scaling.png", machine(), earlier)
    except NetflagError as error:
        raise fail(error) from None
    except (OSError, RuntimeError) as error:
        raise fail(NetflagError(f"bench failed: {error}")) from None

    table = Table(title=f"netflag bench ({machine()})")
    columns = ("workload", "events", "s", "checks/s", "peak MiB", "x floor", "target", "", "note")
    for column in columns:
        table.add_column(column, justify="right" if column in columns[1:6] else "left")
    for row in suite.results.rows:
        table.add_row(*cells(row))
    console = Console(width=200)
    console.print(table)
    for name, points in suite.results.curves.items():
        then = dict((earlier or {}).get(name, []))
        shown = ", ".join(
            f"{x:,}: {rate:,.0f}/s" + (f" ({rate / then[x]:.2f}x)" if then.get(x) else "")
            for x, rate in points
        )
        console.print(f"checks/s by {name}: {shown}", highlight=False)
    written = [out / "results.json", out / "results.md"] + ([out / "scaling.png"] if curves else [])
    console.print("written: " + ", ".join(map(str, written)))
