"""The typer app and what every command shares: the rule's options, one-line errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netflag.cli.usage import NetflagGroup
from netflag.errors import InputError, NetflagError

if TYPE_CHECKING:
    from netflag.distributed.ray_pool import WorkerPool

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C

app = typer.Typer(
    name="netflag",
    cls=NetflagGroup,  # usage errors in one line; each command's whole first line in --help
    help="Flag purchases far above what the buyer's social network usually spends.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion: every command and option
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from netflag.engine import default_kernel
        from netflag.version import __version__

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


def output_path(text: str) -> Path:
    """An output path as typed: ``-`` is stdout (:data:`netflag.io.output.STDOUT`), and
    ``./-``, which a Path also spells ``-``, stays the file named ``-`` here."""
    if text != "-" and Path(text) == Path("-"):
        return Path.cwd() / "-"
    return Path(text)


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

# Workers on Ray (extra `ray`): decide the stream's purchases in N processes, same output.
WorkersOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        metavar="N",
        help='Decide on N Ray workers (same output; needs "netflag[ray]").',
    ),
]
ShardsOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        metavar="P",
        help="Hold the state on P Ray shard actors, each only the users hashed to it"
        ' (same output; needs "netflag[ray]"; docs/scaling.md).',
    ),
]
RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="With --workers or --shards: join the Ray cluster at HOST:PORT, its head's address"
        " (or auto), not a local one; run netflag on one of its nodes.",
    ),
]
RayTokenOption = Annotated[
    Path | None,
    typer.Option(
        "--ray-token-file",
        metavar="FILE",
        help="With --ray: the cluster's token, a copy of the head's ~/.ray/auth_token (sets"
        " RAY_AUTH_MODE=token for this run; else Ray's RAY_AUTH_* variables apply).",
    ),
]
KafkaConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--kafka-config",
        metavar="FILE",
        help="Settings for every Kafka client, as a librdkafka properties file (key=value"
        " lines: SASL, TLS...); they win over netflag's, except the ones exactly once rests on.",
    ),
]


def fail(error: NetflagError) -> typer.Exit:
    """Print the error's one line and give the exit to raise."""
    sys.stderr.write(f"error: {error}\n")
    return typer.Exit(error.exit_code)


@contextmanager
def interruptible(left: str = "no output written") -> Iterator[None]:
    """Ctrl-C during the block: one line saying what was ``left``, exit code 130.

    Outputs are :class:`~netflag.io.output.AtomicFile`s, removed as the
    interrupt unwinds them, so "no output written" is true when it is said.
    """
    try:
        yield
    except KeyboardInterrupt:
        sys.stderr.write(f"netflag: interrupted, {left}\n")
        raise typer.Exit(INTERRUPTED) from None


def actor_pool(
    workers: int | None,
    shards: int | None,
    ray: str | None,
    token: Path | None,
    *,
    verbose: bool = False,
) -> AbstractContextManager[WorkerPool | None]:
    """The Ray actors' pool: P shards', N workers', or none (neither asked for)."""
    from netflag.distributed.ray_pool import optional_pool, worker_pool

    if shards is not None:
        if workers is not None:
            raise InputError(
                "--workers and --shards cannot be combined: --workers copies the whole state to"
                " every worker, --shards splits it"
            )
        return worker_pool(shards, ray, token, verbose=verbose, option="--shards")
    needs = "--workers N or --shards P: how many to run"
    return optional_pool(workers, ray, token, verbose=verbose, needs=needs)
