"""``netflag live`` and ``netflag produce``: follow a log, a Redis stream or a Kafka topic."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from netflag.cli.app import (
    DegreeOption,
    KafkaConfigOption,
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
)
from netflag.cli.logs import LogFormat, Stderr, same_terminal
from netflag.cli.progress import MIN_BYTES, ProgressOption, progress_display, total_size
from netflag.cli.signals import stop_signals
from netflag.errors import InputError, NetflagError
from netflag.io.urls import forms

if TYPE_CHECKING:
    from netflag.io.sinks import Sink
    from netflag.modes.live import Live

URL_FORMS = forms()  # -, file:PATH, PATH or redis://HOST[:PORT]/STREAM
log = logging.getLogger("netflag.live")


@contextmanager
def stop_on_signals(live: Live) -> Iterator[None]:
    """SIGTERM/SIGINT stop the run cleanly (final checkpoint); a second one stops it at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if live.stopping:
            raise KeyboardInterrupt
        log.warning("%s: stopping after a checkpoint", signal.Signals(signum).name)
        live.stop()

    with stop_signals(handler):
        yield


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
    snapshot_every: Annotated[
        int,
        typer.Option(
            min=1, metavar="N", help="Snapshot the engine after N lines (bounds a restart's work)."
        ),
    ] = 1_000_000,
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
    log_format: Annotated[
        LogFormat,
        typer.Option(
            help="text: a status line (redrawn on a terminal); json: one JSON object per line"
            " with time, level, message and the numbers as fields, for a log stack."
        ),
    ] = LogFormat.text,
    progress: ProgressOption = None,
    workers: WorkersOption = None,
    shards: ShardsOption = None,
    ray: RayOption = None,
    ray_token_file: RayTokenOption = None,
    kafka_config: KafkaConfigOption = None,
) -> None:
    """Load BATCH (or the checkpoint in --state), then flag SOURCE's purchases as they arrive.

    Flags are the same lines replay writes. SIGTERM or Ctrl-C stops after a
    final checkpoint; a restart with the same --state goes on exactly where
    the checkpoint left off, so no flag is lost or written twice.
    """
    from netflag.io.sinks import open_sink
    from netflag.io.sources import open_source
    from netflag.modes.live import Live, LiveOptions, LiveOutputs

    out = Stderr(log_format, sys.stderr.isatty())
    logger = logging.getLogger("netflag")
    logger.handlers[:] = [out.handler()]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    # Start-up bars (batch load, checkpoint restore, of any size) go beside the text format
    # only: drawn between JSON lines they would break them, even with --progress.
    large = state is not None or total_size(batch) >= MIN_BYTES
    try:
        with (
            actor_pool(workers, shards, ray, ray_token_file, verbose=verbose) as pool,
            progress_display(False if out.json else progress, large) as display,
        ):
            out.display = display
            options = LiveOptions(
                state=state,
                D=D,
                T=T,
                k=k,
                strict=strict,
                max_recommendations=max_recommendations,
                checkpoint_every=checkpoint_every,
                checkpoint_seconds=checkpoint_seconds,
                snapshot_every=snapshot_every,
                on_status=None if quiet else out.status,
                status_seconds=out.status_seconds,
                progress=display.progress,
                workers=pool,
                shards=shards,
            )
            urls = [source, *(sink or []), rejects, actions]
            settings = kafka_settings(kafka_config, [url for url in urls if url is not None])
            # Before the sinks: its error is reported.
            events = open_source(source, "SOURCE", settings=settings)
            # Flags on the terminal that shows the status line clear it first, then redraw it.
            screen = out if out.terminal and same_terminal() else None

            def opened(url: str, role: str) -> Sink:
                return open_sink(url, role, screen=screen, settings=settings)

            outputs = LiveOutputs(
                [opened(url, "--sink") for url in sink or ["-"]],
                rejects=None if rejects is None else opened(rejects, "--rejects"),
                actions=None if actions is None else opened(actions, "--actions"),
            )
            runner = Live(batch, events, outputs, options)
            with stop_on_signals(runner):
                summary = runner.run(max_events=max_events, idle_timeout=idle_timeout)
    except NetflagError as error:
        if not out.json:
            raise fail(error) from None
        out.record("error", str(error), {"exit_code": error.exit_code})
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        out.record("warning", "stopped at once, without a final checkpoint")
        raise typer.Exit(130) from None
    if not quiet:
        out.summary(summary)


def kafka_settings(path: Path | None, urls: list[str]) -> dict[str, str] | None:
    """``--kafka-config``'s settings; refused when no URL is a Kafka one (it would be unused)."""
    from netflag.io.client_settings import read_settings

    if path is None:
        return None
    if not any(url.lower().startswith("kafka:") for url in urls):
        raise InputError("--kafka-config is for kafka:// sources and sinks, and none is given")
    return read_settings(path)


@app.command()
def produce(
    stream: Annotated[
        Path, typer.Argument(metavar="STREAMFILE", help="Event log to push, one entry per line.")
    ],
    url: Annotated[
        str,
        typer.Argument(
            metavar="URL", help="Target: redis://HOST[:PORT]/STREAM or kafka://HOST:PORT/TOPIC."
        ),
    ],
    rate: Annotated[
        float, typer.Option(min=0.0, metavar="N", help="Events per second; 0 for no limit.")
    ] = 100.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary line.")] = False,
    kafka_config: KafkaConfigOption = None,
) -> None:
    """Push STREAMFILE's events into a Redis stream or a Kafka topic, --rate a second.

    One entry (or message) per line, holding the line: what live mode reads, to
    watch it at work. Kafka messages are keyed by user (id, or id1 for a
    friendship), so a topic of several partitions is laid out as a shop's is.
    """
    import time

    from netflag.io.counts import count
    from netflag.io.urls import backend, classify

    started = time.monotonic()
    try:
        target = classify(url, "URL")
        if target.kind in ("stdio", "file"):
            raise InputError(f"URL {url!r}: produce writes to redis://... or kafka://... only")
        settings = kafka_settings(kafka_config, [url])
        push = backend(target, "producer")
        extra = {} if settings is None else {"config": settings}
        with interruptible(f"the events pushed so far stay in {url}"):
            sent = push(stream, url, rate=rate, **extra)
    except NetflagError as error:
        raise fail(error) from None
    if not quiet:
        took = time.monotonic() - started
        sys.stderr.write(f"netflag: pushed {count(sent, 'event')} to {url} in {took:.2f} s\n")
