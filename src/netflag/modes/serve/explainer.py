"""Explanations of logged purchases, each rebuilt in a process of its own.

An explanation rebuilds the engine as it stood at the event, from the snapshot
and the log: a few hundred milliseconds of CPU on a medium state. On one of the
service's threads that holds the GIL, so every write waits behind it (a soak's
write p99 went from 10 ms to 70-140 ms at two explanations a second), and glibc
keeps what the rebuilt engine freed in that thread's heap (the RSS crept up).
In a fresh process, forked from a fork server that has the engine imported, the
writer keeps its core and everything the rebuild allocated goes back to the
system when the process ends. The worker needs only the state directory's path:
it reads the snapshot and the log itself, without the lock, as ``netflag
explain`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, cast

from netflag.analysis.common import format_timestamp
from netflag.analysis.explain import Explanation, check_agrees, explain
from netflag.engine import Engine, Purchase, Strategy
from netflag.engine.snapshot import load_file
from netflag.errors import NetflagError
from netflag.io.events import LineError, parse_event
from netflag.modes.serve.errors import Gone, NotFound, Unavailable
from netflag.runtime.journal import SNAPSHOT
from netflag.runtime.wal import read_lines

AT_ONCE = 2  # explanations rebuilt at the same time: each takes a core and an engine's memory


def explain_logged(
    state: Path, version: str, strategy: Strategy, seq: int, synced: int
) -> Explanation:
    """Explain the purchase at ``seq`` of the service's log at ``state`` as it was
    decided; ``synced`` is the last durable event (nothing past it is shown)."""
    if not 1 <= seq <= synced:
        raise NotFound(f"no event {seq} in the log (it holds 1..{synced})")
    for _ in range(3):  # a snapshot taken meanwhile may drop the segments we need
        loaded = load_file(state / SNAPSHOT, version=version)
        base = int(loaded.extra["seq"])
        if seq <= base:
            raise Gone(
                f"event {seq} is no longer in the log: the snapshot at event {base} replaced"
                " the log up to there (serve --keep-log keeps every event explainable)"
            )
        engine = Engine.from_state(loaded.state, strategy=strategy)
        expected = base + 1
        for number, raw in read_lines(state, version, base):
            if number != expected or number > seq:
                break
            expected += 1
            try:
                event = parse_event(raw)
            except LineError as error:
                if number == seq:
                    raise NotFound(f"event {seq} was rejected: {error}") from None
                continue
            if number < seq:
                engine.apply(event, check=False)
                continue
            if not isinstance(event, Purchase):
                raise NotFound(f"event {seq} is a {type(event).__name__.lower()}, not a purchase")
            when = format_timestamp(event.timestamp)
            found = explain(engine, event.user, event.amount, timestamp=when, line=seq)
            check_agrees(found, engine.apply(event))
            return found
    raise Unavailable(f"event {seq}: the log moved under the explanation; try again")


def _explain_into(answer: Connection, call: tuple[Any, ...]) -> None:
    """A worker's whole life: one explanation, sent back (a refusal as itself), then exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the service's to handle
    try:
        found: tuple[bool, Any] = (True, explain_logged(*call))
    except NetflagError as error:
        found = (False, error)
    except Exception as error:  # noqa: BLE001 - a bug: the service answers 500 with it
        found = (False, RuntimeError(f"the explanation failed: {error!r}"))
    with contextlib.suppress(OSError):  # the service is gone: nobody to tell
        answer.send(found)
    answer.close()


class Explainer:
    """At most :data:`AT_ONCE` explanations at a time, each in a process that ends with it.

    A process an explanation, rather than a pool: an idle pool worker outlives a
    service killed with SIGKILL (it waits on a queue it holds both ends of), and
    with it the fork server. This one ends when its explanation is sent.
    """

    def __init__(self, state: Path, version: str, strategy: Strategy) -> None:
        self.state, self.version, self.strategy = state, version, strategy
        self._at_once = asyncio.Semaphore(AT_ONCE)
        self.running: set[BaseProcess] = set()
        self._context: ForkServerContext | SpawnContext
        if "forkserver" in multiprocessing.get_all_start_methods():
            self._context = multiprocessing.get_context("forkserver")
            self._context.set_forkserver_preload([__name__])  # each fork has the engine
        else:
            self._context = multiprocessing.get_context("spawn")

    async def explain(self, seq: int, synced: int) -> Explanation:
        """:func:`explain_logged` in a process of its own (started from a thread: the first
        start also starts the fork server); one that died is an :class:`Unavailable`."""
        async with self._at_once:
            call = (self.state, self.version, self.strategy, seq, synced)
            try:
                ok, found = await asyncio.to_thread(self._run, call)
            except EOFError:
                raise Unavailable(
                    f"event {seq}: the explanation's process died (out of memory?); try again"
                ) from None
        if not ok:
            raise found
        return cast(Explanation, found)

    def _run(self, call: tuple[Any, ...]) -> tuple[bool, Any]:
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_explain_into, args=(writer, call))
        process.daemon = True  # ended by the service's own exit
        self.running.add(process)
        try:
            process.start()
            writer.close()
            return cast(tuple[bool, Any], reader.recv())
        finally:
            reader.close()
            process.join()
            self.running.discard(process)

    def close(self) -> None:
        """Stop the explanations under way."""
        for process in list(self.running):
            if process.pid is not None:  # started
                process.kill()
