"""The typer app and what every command shares: one-line errors, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from netflag.errors import NetflagError

app = typer.Typer(
    name="netflag",
    help="Flag purchases far above what the buyer's social network usually spends.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from netflag import __version__
        from netflag.engine import default_kernel

        sys.stdout.write(f"netflag {__version__} ({default_kernel()} core)\n")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Flag purchases far above what the buyer's social network usually spends."""


# The rule's parameters, spelled the same by every command that takes them.
DegreeOption = Annotated[
    int | None,
    typer.Option("--D", "-D", min=1, help="Network degree; overrides the batch log."),
]
TrackedOption = Annotated[
    int | None,
    typer.Option("--T", "-T", min=2, help="Tracked purchases; overrides the batch log."),
]
MultiplierOption = Annotated[
    str | None,
    typer.Option("--k", "-k", help="Threshold multiplier, an exact decimal (default 3)."),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Stop with exit code 1 at the first bad line.")
]

# Progress bars only pay off for work that takes more than a blink.
PROGRESS_MIN = {"bytes": 4 * 1024 * 1024, "lines": 50_000}


def fail(error: NetflagError) -> typer.Exit:
    """Print the error's one line and give the exit to raise."""
    sys.stderr.write(f"error: {error}\n")
    return typer.Exit(error.exit_code)


def _say_plain(line: str) -> None:
    sys.stderr.write(line + "\n")


@contextmanager
def progress_bar(
    total: int, unit: str, enabled: bool
) -> Iterator[tuple[Callable[[int], None] | None, Callable[[str], None]]]:
    """A rich progress bar on stderr (terminals only) and a printer that keeps it intact.

    Yields ``(advance, say)``: ``advance(n)`` moves the bar by n ``unit``
    ("bytes" or "lines"; None when there is no bar) and ``say(line)`` prints a
    line above it.
    """
    if not (enabled and sys.stderr.isatty() and total >= PROGRESS_MIN[unit]):
        yield None, _say_plain  # no bar: no need to import rich either
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    amount = (
        (DownloadColumn(), TransferSpeedColumn()) if unit == "bytes" else (MofNCompleteColumn(),)
    )
    console = Console(stderr=True)
    with Progress(
        BarColumn(), *amount, TimeRemainingColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task(unit, total=total)
        yield (
            lambda n: bar.advance(task, n),
            lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True),
        )
