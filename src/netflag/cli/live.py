"""``netflag live`` and ``netflag produce``: follow a log or a Redis stream as it grows."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from netflag.cli.app import (
    DegreeOption,
    MultiplierOption,
    StrictOption,
    TrackedOption,
    app,
    fail,
)
from netflag.errors import NetflagError

URL_FORMS = "file:PATH, - or redis://HOST:PORT/STREAM"
CLEAR = "\r\033[K"  # back to the start of a terminal line and erase it


class _StderrHandler(logging.Handler):
    """Log lines on stderr; on a terminal, clear the status line first."""

    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def emit(self, record: logging.LogRecord) -> None:
        prefix = CLEAR if self.terminal else ""
        sys.stderr.write(f"{prefix}{self.format(record)}\n")
        sys.stderr.flush()


def _status_printer(terminal: bool) -> tuple[float, Callable[[str], None]]:
    """On a terminal, one line redrawn every second; elsewhere a line every 10 seconds."""

    def say(line: str) -> None:
        if terminal:
            sys.stderr.write(f"{CLEAR}netflag: {line}")
        else:
            sys.stderr.write(f"netflag: {line}\n")
        sys.stderr.flush()

    return (1.0 if terminal else 10.0), say


@app.command()
def live(
    batch: Annotated[
        Path,
        typer.Argument(
            metavar="BATCH", help="Batch log (parameters line, then events); unused on a resume."
        ),
    ],
    source: Annotated[
        str, typer.Argument(metavar="SOURCE", help=f"Events to follow: {URL_FORMS}.")
    ],
    sink: Annotated[
        list[str] | None,
        typer.Option(
            "--sink",
            metavar="URL",
            help=f"Where flags go ({URL_FORMS}); repeat for several. Default: stdout.",
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Checkpoint here and resume from here: exactly-once after a crash."
        ),
    ] = None,
    rejects: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Dead-letter sink for bad lines, with where and why."),
    ] = None,
    actions: Annotated[
        str | None,
        typer.Option(
            metavar="URL", help="Sink for each flag's feed audience and friend recommendations."
        ),
    ] = None,
    max_recommendations: Annotated[
        int, typer.Option(min=0, help="At most this many friend recommendations per flag.")
    ] = 10,
    strict: StrictOption = False,
    checkpoint_every: Annotated[
        int, typer.Option(min=1, metavar="N", help="Checkpoint after N lines.")
    ] = 10_000,
    checkpoint_seconds: Annotated[
        float, typer.Option(min=0.0, metavar="S", help="Checkpoint after S seconds with new lines.")
    ] = 10.0,
    D: DegreeOption = None,
    T: TrackedOption = None,
    k: MultiplierOption = None,
    max_events: Annotated[
        int | None, typer.Option(min=0, metavar="N", help="Stop after N lines.")
    ] = None,
    idle_timeout: Annotated[
        float | None,
        typer.Option(min=0.0, metavar="S", help="Stop after S seconds without a new line."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No status or summary.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also log startup and checkpoints.")
    ] = False,
) -> None:
    """Load BATCH (or the checkpoint in --state), then flag SOURCE's purchases as they arrive.

    Flags are the same lines replay writes. SIGTERM or Ctrl-C stops after a
    final checkpoint; a restart with the same --state goes on exactly where
    the checkpoint left off, so no flag is lost or written twice.
    """
    from netflag.io.sinks import open_sink
    from netflag.io.sources import open_source
    from netflag.live import Live, LiveOptions, LiveOutputs, stop_on_signals

    terminal = sys.stderr.isatty()
    logger = logging.getLogger("netflag")
    logger.handlers[:] = [_StderrHandler(terminal)]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    every, say = _status_printer(terminal)
    options = LiveOptions(
        state=state,
        D=D,
        T=T,
        k=k,
        strict=strict,
        max_recommendations=max_recommendations,
        checkpoint_every=checkpoint_every,
        checkpoint_seconds=checkpoint_seconds,
        on_status=None if quiet else say,
        status_seconds=every,
    )
    try:
        events = open_source(source)  # before the sinks, so its error is the one reported
        outputs = LiveOutputs(
            [open_sink(url) for url in sink or ["-"]],
            rejects=open_sink(rejects) if rejects else None,
            actions=open_sink(actions) if actions else None,
        )
        runner = Live(batch, events, outputs, options)
        with stop_on_signals(runner):
            summary = runner.run(max_events=max_events, idle_timeout=idle_timeout)
    except NetflagError as error:
        raise fail(error) from None
    except KeyboardInterrupt:
        sys.stderr.write("\nnetflag: stopped at once, without a final checkpoint\n")
        raise typer.Exit(130) from None
    if not quiet:
        sys.stderr.write(f"{CLEAR if terminal else ''}netflag: {summary}\n")


@app.command()
def produce(
    stream: Annotated[
        Path, typer.Argument(metavar="STREAMFILE", help="Event log to push, one entry per line.")
    ],
    url: Annotated[str, typer.Argument(metavar="URL", help="Target: redis://HOST:PORT/STREAM.")],
    rate: Annotated[
        float, typer.Option(min=0.0, metavar="N", help="Entries per second; 0 for no limit.")
    ] = 100.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
) -> None:
    """Push STREAMFILE's events into a Redis stream, --rate a second, to watch live mode."""
    import time

    from netflag.io.urls import redis_backend

    started = time.monotonic()
    try:
        sent = redis_backend(url, "netflag.produce").produce(stream, url, rate=rate)
    except NetflagError as error:
        raise fail(error) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if not quiet:
        took = time.monotonic() - started
        sys.stderr.write(f"netflag: pushed {sent:,} events to {url} in {took:.2f} s\n")
