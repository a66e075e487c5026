"""A shard node: one shard of a partitioned state in its process, as a Ray actor makes it.

A :class:`ShardNode` wraps one :class:`~netflag.engine.shard.Shard`. It reads
the batch log itself and keeps the lines that touch its users, so no process
ever holds the whole state; takes the stream's writes epoch by epoch; runs its
part of each check; saves and restores its state for live mode's checkpoints.
It is a plain class: :mod:`netflag.distributed.nodes` makes each a Ray actor,
or keeps them in this process.
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from mmap import mmap
from pathlib import Path
from typing import Any

import numpy as np

from netflag.engine import Befriend, Event, Purchase
from netflag.engine.ids import user_key
from netflag.engine.kernels import Kernel
from netflag.engine.shard_cores import (
    COUNTERS,
    columns_of,
    kernel_of,
    new_shard,
    shard_of,
    to_python,
    units_limit,
)
from netflag.engine.shard_messages import Box, Write, Writes
from netflag.errors import CheckpointError
from netflag.io.batchfeed import feed_file
from netflag.io.events import LineError, parse_event
from netflag.io.reader import describe_os_error
from netflag.runtime.wal import durable_replace

Sums = list[tuple[int, int, int, int]]  # (check, n, S1, S2), see Shard.decide
# An epoch's phases on a shard: the writes into the delta, round 1, rounds 2..D, gather, decide.
PHASES = ("writes", "begin", "step", "gather", "decide")


def writes_of(seq: int, event: Event, scale: int) -> list[Write]:
    """The writes event ``seq`` makes, each for the shard owning its key (``write[2]``):
    the buyer's purchase (units at decimal ``scale``), or both sides of a friendship."""
    if isinstance(event, Purchase):
        key = user_key(event.user)
        return [(0, seq, key, event.user, event.timestamp, event.amount.at_scale(scale))]
    one, two = user_key(event.user1), user_key(event.user2)
    added = int(type(event) is Befriend)
    return [(1, seq, one, event.user1, two, added), (1, seq, two, event.user2, one, added)]


class ShardNode:
    """One shard's process-side: its batch share, its epochs, its figures."""

    def __init__(
        self, index: int, count: int, D: int, T: int, kernel: Kernel | None = None
    ) -> None:
        self.shard = new_shard(index, count, D, T, kernel)
        self.kernel = kernel
        self.scale = 0
        self.next_seq = 0  # the batch load's next arrival number
        self.busy = dict.fromkeys(PHASES, 0.0)  # seconds in each phase of the epochs
        self.cpu_loaded = 0.0  # this process's CPU seconds when the state was in

    def load(self, batch: str, skip: int | None) -> tuple[int, int, list[tuple[int, str, bytes]]]:
        """Apply the batch lines that touch this shard's users (``skip``: the parameters line).

        Every shard reads every line, so all number the events alike: the
        compiled shard's fast path takes the canonical lines, the rest are
        parsed here (:func:`~netflag.io.batchfeed.feed_file`, as one process
        loads). Returns the events applied (all shards', as one process counts
        them), this shard's decimal scale, and the bad lines ``(line, reason,
        raw)``, which only shard 0 reports.
        """
        bad: list[tuple[int, str, bytes]] = []

        def ordinary(number: int, raw: bytes) -> None:
            try:
                event = parse_event(raw)
            except LineError as error:
                if self.shard.index == 0:
                    bad.append((number, str(error), raw))
                return
            if isinstance(event, Purchase):
                self._to_scale(event.amount.scale)
            for write in writes_of(self.next_seq, event, self.scale):
                if self.shard.owns(write[2]):
                    self._fit(write[5] if write[0] == 0 else 0)
                    self._apply(write)
            self.next_seq += 1

        self.next_seq = 0
        feed_file(self, Path(batch), skip, ordinary)
        self.shard.loaded()
        self.cpu_loaded = cpu_seconds()
        return self.next_seq, self.scale, bad

    def feed(
        self, data: bytes | mmap, pos: int, end: int, line: int, *, max_id: int, max_line: int
    ) -> tuple[int, int]:
        """The shard's batch fast path, for :func:`~netflag.io.batchfeed.feed_file`."""
        pos, line, self.next_seq = self.shard.feed(
            data, pos, end, line, self.next_seq, self.scale, max_id, max_line
        )
        return pos, line

    def begin(self, scale: int, writes: Writes, checks: Box, after: object) -> list[Box] | Box:
        """Take the epoch (at decimal ``scale``): its writes (:func:`pack`'s arrays) into the
        delta, then round 1.

        ``after`` is the previous epoch's ``decide`` result: waiting for it keeps
        the epochs in order on Ray.
        """
        rows = writes[0]
        with self._timing("writes"):
            self._to_scale(scale)
            amounts = rows[4][rows[0] == 0]
            self._fit(int(amounts.max()) if amounts.size else 0)
            self.shard.apply(*writes)
        with self._timing("begin"):
            return _parts(self.shard.begin(checks))

    def _to_scale(self, scale: int) -> None:
        """Store amounts at decimal ``scale`` from now on, if it is finer."""
        if scale > self.scale:
            factor = 10 ** (scale - self.scale)
            if units_limit(self.shard) is not None:
                self._fit(self.shard.max_units * factor)  # type: ignore[attr-defined]
            self.shard.rescale(factor)
            self.scale = scale

    def _fit(self, units: int) -> None:
        """Move to the Python twin (between epochs) before keeping ``units`` if the
        compiled shard cannot hold them."""
        limit = units_limit(self.shard)
        if limit is not None and units >= limit:
            self.shard = to_python(self.shard)

    def _apply(self, write: Write) -> None:
        """One batch write to this shard (an epoch's go to ``Shard.apply`` as arrays)."""
        kind, seq, key, name, one, two = write
        if kind == 0:
            self.shard.buy(key, name, one, seq, two, now=True)
        else:
            self.shard.link(seq, key, name, one, bool(two), now=True)

    def step(self, *inboxes: Box) -> list[Box] | Box:
        with self._timing("step"):
            return _parts(self.shard.step(inboxes))

    def gather(self, *inboxes: Box) -> list[Box] | Box:
        with self._timing("gather"):
            return _parts(self.shard.gather(inboxes))

    def decide(self, *inboxes: Box) -> Sums:
        with self._timing("decide"):
            return self.shard.decide(inboxes)

    @contextmanager
    def _timing(self, phase: str) -> Iterator[None]:
        """Add the time of the block to ``busy[phase]`` (``--stats``)."""
        started = time.perf_counter()
        yield
        self.busy[phase] += time.perf_counter() - started

    def save(self, path: str) -> str:
        """Write this shard's state (between epochs) to ``path``, durably; its SHA-256."""
        buffer = io.BytesIO()
        arrays: dict[str, Any] = {"scale": np.array([self.scale]), **columns_of(self.shard)}
        np.savez(buffer, **arrays)
        data = buffer.getvalue()
        durable_replace(Path(path), [data])
        return hashlib.sha256(data).hexdigest()

    def restore(self, path: str, digest: str) -> int:
        """Take the state :meth:`save` wrote to ``path``; CheckpointError if it is not that."""
        shard = self.shard
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise CheckpointError(f"cannot read {path}: {describe_os_error(error)}") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise CheckpointError(f"{path}: not the shard state its checkpoint names")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as columns:
                arrays = {name: columns[name] for name in columns.files}
            self.shard = shard_of(shard.index, shard.count, shard.D, shard.T, arrays, self.kernel)
            self.scale = int(arrays["scale"][0])
            self.cpu_loaded = cpu_seconds()
        except (KeyError, ValueError, IndexError) as error:
            raise CheckpointError(f"{path}: shard state is invalid ({error})") from None
        return self.shard.users

    def stats(self) -> dict[str, Any]:
        """This shard's size, traffic and work so far, its seconds in each phase of the
        epochs, and its process's peak RSS."""
        shard = self.shard
        return {
            "shard": shard.index,
            "kernel": kernel_of(shard),
            "users": shard.users,
            "purchases_kept": shard.kept(),
            "friend_entries": shard.half_edges(),
            "state_bytes": shard.state_bytes(),
            "peak_rss_bytes": peak_rss(),
            "pid": os.getpid(),
            **{name: getattr(shard, name) for name in COUNTERS},
            "busy_seconds": self.busy,
            # The kernels' time and what else the process spent on the epochs (Ray's calls,
            # the messages' (de)serialisation): a message's cost in a cluster's sizing.
            "cpu_seconds": cpu_seconds() - self.cpu_loaded,
        }


def _parts(messages: list[Box]) -> list[Box] | Box:
    """A call's messages, one result per shard: Ray's ``num_returns=1`` takes one object."""
    return messages if len(messages) > 1 else messages[0]


def cpu_seconds() -> float:
    """This process's CPU time (user and system), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss() -> int:
    """This process's peak resident set, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
