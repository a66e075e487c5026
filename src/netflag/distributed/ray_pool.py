"""The worker actors on a Ray this process started or joined; a failure is one line.

``--workers N`` alone starts a private local Ray with N CPUs (no dashboard,
loopback only, quiet); ``--ray ADDRESS`` (or ``auto``) joins a running cluster,
with ``--ray-token-file`` when it wants a token (see
:mod:`netflag.distributed.connect`). Every node needs netflag installed. A Ray
that is already initialised in this process (a test's) is used as it is and
left running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from netflag.distributed.connect import (
    RAY_MISSING,
    check_token_variables,
    environment,
    import_ray,
    join,
    probe,
    quiet_environment,
    refresh_auth,
    start_local,
    token_environment,
)
from netflag.errors import InputError, NetflagError, WorkerError

__all__ = [
    "RAY_MISSING", "WorkerPool", "describe_failure", "import_ray", "optional_pool", "worker_pool",
]  # fmt: skip
LOST = {"RayActorError", "NodeDiedError", "OwnerDiedError"}  # and their kinds: a worker gone


class WorkerPool:
    """N worker actors' worth of Ray: :meth:`actors` lends them, :meth:`close` ends them.

    Actors handed back whole are lent again (a worker reloads its state for
    each run, and a fresh actor costs a process start); actors of a failed
    run are killed. ``on_chunk`` (for tests) hears every chunk handed out,
    with its number and the actors, so a test can kill one mid-run.
    """

    def __init__(self, ray: ModuleType, count: int) -> None:
        self.ray = ray
        self.count = count
        self.on_chunk: Callable[[int, list[Any]], None] | None = None
        self._idle: list[Any] = []
        self._lent: list[Any] = []

    def actors(self) -> list[Any]:
        """``count`` worker actors, spread over the cluster's nodes.

        Each asks for one CPU, or an equal share when the cluster has fewer
        CPUs than workers (they then take turns instead of never starting).
        """
        if self._idle:
            made, self._idle = self._idle, []
        else:
            # The actor's code (the engine, the parser) loads only when workers start:
            # every replay imports this module for --workers, most never use it.
            from netflag.distributed.workers import Worker

            made = self._start(Worker, [(index, self.count) for index in range(self.count)])
        self._lent += made
        return made

    def spawn(self, cls: type, args: list[tuple[Any, ...]]) -> list[Any]:
        """One actor of ``cls`` per tuple of constructor ``args``, spread as :meth:`actors`
        spreads workers; they end with the pool (or at :meth:`release`)."""
        made = self._start(cls, args)
        self._lent += made
        return made

    def _start(self, cls: type, args: list[tuple[Any, ...]]) -> list[Any]:
        cpus = float(self.ray.cluster_resources().get("CPU", 0.0))
        share = min(1.0, cpus / len(args)) if cpus else 0.0
        remote = self.ray.remote(cls).options(
            num_cpus=share, scheduling_strategy="SPREAD", max_restarts=0
        )
        return [remote.remote(*each) for each in args]

    def give_back(self, actors: list[Any]) -> None:
        """A run is over and its actors are sound: keep them for the next one."""
        self._forget(actors)
        self._idle = list(actors)

    def release(self, actors: list[Any]) -> None:
        """End these actors now (a failed run's: one of them may be dead or broken)."""
        self._forget(actors)
        for actor in actors:
            self.ray.kill(actor)

    def _forget(self, actors: list[Any]) -> None:
        self._lent = [actor for actor in self._lent if actor not in actors]

    def close(self) -> None:
        """End every actor, lent or idle."""
        self.release(self._lent + self._idle)
        self._idle = []


@contextmanager
def worker_pool(
    count: int,
    address: str | None = None,
    token_file: Path | None = None,
    *,
    verbose: bool = False,
    option: str = "--workers",
) -> Iterator[WorkerPool]:
    """A :class:`WorkerPool` of ``count`` workers on a local Ray or the cluster at ``address``.

    ``token_file`` is the cluster's token (``--ray-token-file``), for this
    pool's life only; ``verbose`` lets Ray's own log lines through to stderr;
    ``option`` is the one that asked for ``count`` (for messages). Raises
    :class:`~netflag.errors.InputError` when Ray is missing or the cluster
    cannot be joined.
    """
    if count < 1:
        raise InputError(f"{option} must be at least 1, got {count}")
    if token_file is not None and address is None:
        raise InputError(
            f"--ray-token-file {token_file} needs --ray ADDRESS: a local Ray makes its own token"
        )
    token = token_environment(token_file)
    with environment(token):
        check_token_variables()
        if address is not None:
            probe(address)  # even for a Ray already running here: the address must answer
        ray = import_ray()
        started = False
        if not ray.is_initialized():
            quiet_environment()
            if token:
                refresh_auth()
            if address is not None:
                join(ray, address, token_file, verbose)
            else:
                start_local(ray, count, verbose)
            started = True
        pool = WorkerPool(ray, count)
        try:
            yield pool
        finally:
            try:
                pool.close()
            finally:
                if started:
                    ray.shutdown()
    if token:
        refresh_auth()  # the variables are as they were: so is Ray's cache


@contextmanager
def optional_pool(
    count: int | None,
    address: str | None = None,
    token_file: Path | None = None,
    *,
    verbose: bool = False,
    option: str = "--workers",
    needs: str = "--workers N: how many workers to run on it",
) -> Iterator[WorkerPool | None]:
    """:func:`worker_pool` for ``--workers N`` (or ``option``), or None (no Ray at all)
    without it; ``needs`` says what ``--ray`` alone lacks."""
    if count is None:
        if address is not None or token_file is not None:
            given = "--ray" if address is not None else "--ray-token-file"
            raise InputError(f"{given} needs {needs}")
        yield None
        return
    with worker_pool(count, address, token_file, verbose=verbose, option=option) as pool:
        yield pool


def describe_failure(error: BaseException) -> NetflagError:
    """A Ray failure as one line: a worker lost (its process or node gone), or one that failed.

    A user's error raised on a worker (a :class:`~netflag.errors.NetflagError`)
    comes back as itself; another exception is named with its own message, not
    Ray's wrapping of it.
    """
    kind = type(error).__name__
    if any(cls.__name__ in LOST for cls in type(error).__mro__):
        return WorkerError(
            f"a Ray worker was lost ({kind}): its process or its node left the cluster"
        )
    cause = getattr(error, "cause", None)
    if isinstance(cause, NetflagError):
        return cause
    if isinstance(cause, Exception):
        error, kind = cause, type(cause).__name__
    first = str(error).strip().splitlines()[:1] or [""]
    return WorkerError(f"a Ray worker failed ({kind}): {first[0]}".rstrip(": "))
