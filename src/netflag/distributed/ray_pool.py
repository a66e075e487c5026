"""Start or join Ray, and make the worker actors; every failure is one line.

``--workers N`` alone starts a private local Ray with N CPUs (no dashboard,
loopback only, quiet); ``--ray ADDRESS`` (or ``auto``) joins a running cluster
(``ray start --head`` on one machine, ``ray start --address HEAD:6379`` on the
others; every node needs netflag installed). A Ray that is already initialised
in this process (a test's) is used as it is and left running.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from netflag.errors import InputError, WorkerError

RAY_MISSING = '--workers needs Ray: pip install "netflag[ray]"'
PROBE_SECONDS = 3.0  # how long a cluster address may take to answer a TCP connect


def import_ray() -> ModuleType:
    """Ray, or the one-line error that says how to get it."""
    try:
        import ray
    except ImportError:
        raise InputError(RAY_MISSING) from None
    return ray


def probe(address: str) -> None:
    """Fail fast on an address nothing listens on: Ray itself retries for minutes."""
    if address == "auto":
        return  # Ray finds the local cluster itself, and says at once when there is none
    where = address.removeprefix("ray://")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray {address!r}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"cannot reach the Ray cluster at {address}: {reason}") from None


def _quiet_environment() -> None:
    """No usage-stats prompt and no import warnings from a Ray we start."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DISABLE_IMPORT_WARNING", "1")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")


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

            cpus = float(self.ray.cluster_resources().get("CPU", 0.0))
            share = min(1.0, cpus / self.count) if cpus else 0.0
            remote = self.ray.remote(Worker).options(
                num_cpus=share, scheduling_strategy="SPREAD", max_restarts=0
            )
            made = [remote.remote(index, self.count) for index in range(self.count)]
        self._lent += made
        return made

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
def worker_pool(count: int, address: str | None = None) -> Iterator[WorkerPool]:
    """A :class:`WorkerPool` of ``count`` workers on a local Ray or the cluster at ``address``.

    Raises :class:`~netflag.errors.InputError` when Ray is missing or the
    cluster cannot be reached.
    """
    if count < 1:
        raise InputError(f"--workers must be at least 1, got {count}")
    ray = import_ray()
    if address is not None:
        probe(address)
    started = False
    if not ray.is_initialized():
        _quiet_environment()
        quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        if address is not None:
            try:
                ray.init(address=address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as error:
                first = str(error).strip().splitlines()[:1] or [type(error).__name__]
                raise InputError(f"cannot join the Ray cluster at {address}: {first[0]}") from None
        else:
            ray.init(
                num_cpus=count,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                **quiet,
            )
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


@contextmanager
def optional_pool(count: int | None, address: str | None = None) -> Iterator[WorkerPool | None]:
    """:func:`worker_pool` for ``--workers N``, or None (no Ray at all) without it."""
    if count is None:
        if address is not None:
            raise InputError("--ray needs --workers N: how many workers to run on it")
        yield None
        return
    with worker_pool(count, address) as pool:
        yield pool


def describe_failure(error: BaseException) -> WorkerError:
    """A Ray failure as one line: which kind, and its first line of text."""
    first = str(error).strip().splitlines()[:1] or [""]
    return WorkerError(f"a Ray worker failed ({type(error).__name__}): {first[0]}".rstrip(": "))
