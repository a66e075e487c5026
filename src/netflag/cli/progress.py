"""The one progress display of every command: whether to show it, and a printer beside it.

Library functions announce their phases through :class:`netflag.runtime.progress.Progress`;
:func:`progress_display` decides whether anyone watches (stderr is a terminal
and the input is large, unless ``--progress``/``--no-progress`` says) and only
then imports rich (:mod:`netflag.cli.bars`), so ``--help`` and short runs never
pay for it. Off a terminal (``--progress`` into a pipe or a log) the phases
are plain lines instead (:mod:`netflag.cli.plain`): no escape codes, nothing erased.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated

import typer

from netflag.cli.display import Display

ProgressOption = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Show phases and progress bars on stderr. Default: when stderr is a terminal"
        " and the input is large; --progress also elsewhere, as plain lines (one per phase"
        " and every few seconds).",
        show_default=False,
    ),
]
# In auto mode bars only pay off for work that takes more than a blink.
MIN_BYTES = 4 * 1024 * 1024


def total_size(*paths: Path | None) -> int:
    """Bytes of the inputs that exist, to judge whether a run is long enough for bars."""
    size = 0
    for path in paths:
        with suppress(OSError):  # the command reports it in its own words
            size += os.stat(path).st_size if path is not None else 0
    return size


def wanted(choice: bool | None, large: bool) -> bool:
    """``--progress`` or ``--no-progress`` when given; else only a large input on a terminal."""
    if choice is not None:
        return choice
    return large and sys.stderr.isatty()


@contextmanager
def progress_display(choice: bool | None, large: bool) -> Iterator[Display]:
    """A :class:`Display` for the run: rich bars on stderr when :func:`wanted`, else plain.

    ``display.progress`` goes to the library; ``display.say`` prints a line
    without breaking the bars. ``--progress`` when stderr is not a terminal (a
    pipe, a log file) writes each phase as plain lines instead of bars.
    """
    if not wanted(choice, large):
        yield Display()  # no bars: no need to import rich either
        return
    if not sys.stderr.isatty():
        from netflag.cli.plain import Lines

        with Lines() as lines:
            yield lines
        return
    from netflag.cli.bars import Bars

    with Bars() as bars:
        yield bars
