"""``netflag serve``: the HTTP scoring service (optional extra ``netflag[serve]``)."""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from netflag.cli.app import DegreeOption, MultiplierOption, TrackedOption, app, fail
from netflag.cli.listen import bind, check_tls, is_loopback, read_token
from netflag.cli.progress import MIN_BYTES, ProgressOption, progress_display, total_size
from netflag.cli.signals import stop_signals
from netflag.errors import InputError, NetflagError
from netflag.io.counts import count

INSTALL = 'netflag serve needs its extra: pip install "netflag[serve]"'


@app.command()
def serve(
    batch: Annotated[
        Path,
        typer.Argument(
            metavar="BATCH", help="Batch log (parameters line, then events); unused on a restart."
        ),
    ],
    state: Annotated[
        Path,
        typer.Option(
            metavar="DIR", help="The service's log, snapshots and flags: restart from here."
        ),
    ],
    host: Annotated[
        str, typer.Option(help="Address to listen on; beyond loopback needs --token-file.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8080,
    token_file: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Require 'Authorization: Bearer <its content>' on /v1."),
    ] = None,
    max_body: Annotated[
        int, typer.Option(min=1, metavar="BYTES", help="Largest request body (else 413).")
    ] = 1 << 20,
    max_events: Annotated[
        int, typer.Option(min=1, metavar="N", help="Most events in one request (else 413).")
    ] = 10_000,
    request_timeout: Annotated[
        float,
        typer.Option(min=0.001, metavar="S", help="Answer 503 if events are not durable by then."),
    ] = 10.0,
    snapshot_every: Annotated[
        int, typer.Option(min=1, metavar="N", help="Snapshot after N events (bounds recovery).")
    ] = 1_000_000,
    snapshot_seconds: Annotated[
        float, typer.Option(min=1.0, metavar="S", help="Snapshot after S seconds with new events.")
    ] = 600.0,
    keep_keys: Annotated[
        int, typer.Option(min=0, metavar="N", help="Idempotency keys remembered (newest N).")
    ] = 10_000,
    keep_log: Annotated[
        bool,
        typer.Option(
            "--keep-log", help="Keep the whole log (snapshots do not delete what they cover)."
        ),
    ] = False,
    max_recommendations: Annotated[
        int, typer.Option(min=0, help="At most this many friend recommendations per flag.")
    ] = 10,
    idle_timeout: Annotated[
        float, typer.Option(min=0.001, metavar="S", help="Close a connection idle this long.")
    ] = 5.0,
    header_timeout: Annotated[
        float, typer.Option(min=0.001, metavar="S", help="408 if a request head takes longer.")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(min=0.001, metavar="S", help="408 if a request body takes longer.")
    ] = 30.0,
    max_header_bytes: Annotated[
        int, typer.Option(min=256, metavar="BYTES", help="Largest request head (else 431).")
    ] = 16 * 1024,
    max_connections: Annotated[
        int, typer.Option(min=1, metavar="N", help="Open connections at most (else 503).")
    ] = 1000,
    ssl_certfile: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Serve HTTPS with this certificate (PEM).")
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Its private key, if not in the certfile.")
    ] = None,
    D: DegreeOption = None,
    T: TrackedOption = None,
    k: MultiplierOption = None,
    progress: ProgressOption = None,
) -> None:
    """Serve flags over HTTP: POST events, answered once they are durable in --state.

    Loads BATCH into a new --state directory, or restarts from the directory's
    snapshot and log: after a crash the state is exactly the acknowledged
    events. See docs/service.md for every endpoint.
    """
    logger = logging.getLogger("netflag")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("netflag serve: %(levelname)s: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        try:
            import uvicorn

            from netflag.modes.serve.app import Limits, create_app
            from netflag.modes.serve.guard import Guard, guarded
            from netflag.modes.serve.service import Service, ServiceOptions
            from netflag.runtime.journal import SNAPSHOT
        except ImportError:
            raise InputError(INSTALL) from None
        token = None if token_file is None else read_token(token_file)
        if token is None and not is_loopback(host):
            raise InputError(
                f"--host {host} takes connections from other machines: add --token-file"
            )
        check_tls(ssl_certfile, ssl_keyfile)
        if ssl_certfile is None and not is_loopback(host):
            logger.warning("--host %s without --ssl-certfile: the token travels in clear", host)
        sock = bind(host, port)
        large = total_size(batch) >= MIN_BYTES or (state / SNAPSHOT).exists()
        with progress_display(progress, large) as display:
            options = ServiceOptions(
                D=D,
                T=T,
                k=k,
                snapshot_every=snapshot_every,
                snapshot_seconds=snapshot_seconds,
                keep_keys=keep_keys,
                keep_log=keep_log,
                max_recommendations=max_recommendations,
                progress=display.progress,
            )
            service = Service(batch, state, options)
            service.start()
    except NetflagError as error:
        raise fail(error) from None
    limits = Limits(max_body=max_body, max_events=max_events, request_seconds=request_timeout)
    application = create_app(service, token=token, limits=limits)
    guard = Guard(idle_timeout, header_timeout, body_timeout, max_header_bytes, max_connections)
    dropped = service.metrics.dropped
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    logger.info(
        "%s://%s:%d (%s, log at event %s, %s)",
        "http" if ssl_certfile is None else "https",
        shown,
        bound_port,
        count(service.engine.users, "user"),
        f"{service.synced:,}",
        "token required" if token else "no token",
    )
    config = uvicorn.Config(
        application,
        http=guarded(guard, lambda reason: dropped.labels(reason).inc()),
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    # The objects built so far (state, indexes, the app) live as long as the process: keep
    # the cycle collector from walking them again and again (a pause every few thousand
    # requests otherwise, visible in the p99 latency).
    gc.collect()
    gc.freeze()
    server = uvicorn.Server(config)

    # uvicorn's own capture raises the signal again once it has shut down, which makes
    # a clean stop (answers sent, last snapshot) look like a kill to a supervisor.
    # Flag streams (SSE, the / page) never end by themselves: end them first, or they hold
    # the stop for the whole graceful timeout and end in a traceback.
    def stop(sig: int, frame: FrameType | None) -> None:
        service.end_streams()
        server.handle_exit(sig, frame)

    server.capture_signals = lambda: stop_signals(stop)  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    logger.info("stopped cleanly at event %s", f"{service.synced:,}")


@app.command()
def journal(
    state: Annotated[
        Path, typer.Argument(metavar="DIR", help="A --state directory of netflag serve.")
    ],
    after: Annotated[
        int, typer.Option(min=0, metavar="SEQ", help="Only the events after this one.")
    ] = 0,
) -> None:
    """Print the events kept in DIR's log, one line each: a stream log.

    Line N of the output is the event with seq N when the log is whole (no
    snapshot has dropped its start); `netflag replay BATCH <(netflag journal
    DIR)` then writes DIR's flagged_purchases.json again, byte for byte.
    """
    from netflag.runtime.journal import read_lines
    from netflag.version import __version__

    try:
        out = sys.stdout.buffer
        for _, line in read_lines(state, __version__, after):
            out.write(line + b"\n")
    except NetflagError as error:
        raise fail(error) from None
    except BrokenPipeError:
        raise typer.Exit(0) from None
