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
from pathlib import Path
from typing import Any

import numpy as np

from netflag.engine import Befriend, Event, Purchase
from netflag.engine.shard import Box, Shard, user_key
from netflag.engine.shard_snapshot import shard_columns, shard_from_columns
from netflag.errors import CheckpointError
from netflag.io.events import LineError, parse_event
from netflag.io.reader import describe_os_error, numbered_lines
from netflag.runtime.wal import durable_replace

# A write: (0, seq, key, name, timestamp, units) for a purchase,
# (1, seq, key, name, friend key, 1 or 0) for one side of a befriend or unfriend.
Write = tuple[int, int, int, str, int, int]
Sums = list[tuple[int, int, int, int]]  # (check, n, S1, S2), see Shard.decide


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

    def __init__(self, index: int, count: int, D: int, T: int) -> None:
        self.shard = Shard(index, count, D, T)
        self.scale = 0

    def load(self, batch: str, skip: int | None) -> tuple[int, int, list[tuple[int, str, bytes]]]:
        """Apply the batch lines that touch this shard's users (``skip``: the parameters line).

        Every shard parses every line, so all number the events alike. Returns
        the events applied (all shards', as one process counts them), this
        shard's decimal scale, and the bad lines ``(line, reason, raw)``, which
        only shard 0 reports.
        """
        seq = 0
        bad: list[tuple[int, str, bytes]] = []
        for number, raw in numbered_lines(Path(batch)):
            if number == skip:
                continue
            try:
                event = parse_event(raw)
            except LineError as error:
                if self.shard.index == 0:
                    bad.append((number, str(error), raw))
                continue
            if isinstance(event, Purchase):
                self._to_scale(event.amount.scale)
            for write in writes_of(seq, event, self.scale):
                if self.shard.owns(write[2]):
                    self._apply(write, now=True)
            seq += 1
        return seq, self.scale, bad

    def begin(self, scale: int, writes: list[Write], checks: Box, after: object) -> list[Box] | Box:
        """Take the epoch (at decimal ``scale``): its writes into the delta, then round 1.

        ``after`` is the previous epoch's ``decide`` result: waiting for it keeps
        the epochs in order on Ray.
        """
        self._to_scale(scale)
        for write in writes:
            self._apply(write, now=False)
        return _parts(self.shard.begin(checks))

    def _to_scale(self, scale: int) -> None:
        """Store amounts at decimal ``scale`` from now on, if it is finer."""
        if scale > self.scale:
            self.shard.rescale(10 ** (scale - self.scale))
            self.scale = scale

    def _apply(self, write: Write, *, now: bool) -> None:
        """One write to this shard: now (the batch) or into the epoch's delta."""
        kind, seq, key, name, one, two = write
        if kind == 0:
            self.shard.buy(key, name, one, seq, two, now=now)
        else:
            self.shard.link(seq, key, name, one, bool(two), now=now)

    def step(self, *inboxes: Box) -> list[Box] | Box:
        return _parts(self.shard.step(inboxes))

    def gather(self, *inboxes: Box) -> list[Box] | Box:
        return _parts(self.shard.gather(inboxes))

    def decide(self, *inboxes: Box) -> Sums:
        return self.shard.decide(inboxes)

    def save(self, path: str) -> str:
        """Write this shard's state (between epochs) to ``path``, durably; its SHA-256."""
        buffer = io.BytesIO()
        arrays: dict[str, Any] = {"scale": np.array([self.scale]), **shard_columns(self.shard)}
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
            self.shard = shard_from_columns(shard.index, shard.count, shard.D, shard.T, arrays)
            self.scale = int(arrays["scale"][0])
        except (KeyError, ValueError, IndexError) as error:
            raise CheckpointError(f"{path}: shard state is invalid ({error})") from None
        return self.shard.users

    def stats(self) -> dict[str, int]:
        """This shard's size and traffic so far, and its process's peak RSS."""
        shard = self.shard
        return {
            "shard": shard.index,
            "users": shard.users,
            "purchases_kept": shard.kept(),
            "friend_entries": shard.half_edges(),
            "state_bytes": shard.state_bytes(),
            "peak_rss_bytes": peak_rss(),
            "pid": os.getpid(),
            "messages": shard.messages,
            "ids_sent": shard.ids_sent,
            "entries_sent": shard.entries_sent,
        }


def _parts(messages: list[Box]) -> list[Box] | Box:
    """A call's messages, one result per shard: Ray's ``num_returns=1`` takes one object."""
    return messages if len(messages) > 1 else messages[0]


def peak_rss() -> int:
    """This process's peak resident set, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
