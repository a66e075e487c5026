"""Partitioned state: P shard nodes, each loading only its own users, and one epoch's checks.

A :class:`ShardNode` wraps one :class:`~netflag.engine.shard.Shard`. It reads
the batch log itself and keeps the lines that touch its users, so no process
ever holds the whole state, and takes the stream's writes epoch by epoch. It is
a plain class: :class:`RayNodes` makes each a Ray actor, :class:`LocalNodes`
keeps them in this process (tests, and ``P = 1`` without Ray's start-up).

:func:`submit_epoch` lays out one epoch as calls: every shard's ``begin``
(writes, then round 1), D - 1 ``step`` rounds, ``gather``, ``decide``. Each
call's result is one message array per shard, and the next call of shard d
takes the d-th message of every shard. On Ray those arrays go from actor to
actor through the object store, never through the driver, and the data
dependencies alone keep each shard's calls in order; the driver only fetches
the ``decide`` sums.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from netflag.engine import Befriend, Purchase
from netflag.engine.shard import Box, Shard, user_key
from netflag.io.events import LineError, parse_event
from netflag.io.reader import numbered_lines

# A write: (0, seq, key, name, timestamp, units) for a purchase,
# (1, seq, key, name, friend key, 1 or 0) for one side of a befriend or unfriend.
Write = tuple[int, int, int, str, int, int]
Sums = list[tuple[int, int, int, int]]  # (check, n, S1, S2), see Shard.decide


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
        shard = self.shard
        seq = 0
        bad: list[tuple[int, str, bytes]] = []
        for number, raw in numbered_lines(Path(batch)):
            if number == skip:
                continue
            try:
                event = parse_event(raw)
            except LineError as error:
                if shard.index == 0:
                    bad.append((number, str(error), raw))
                continue
            if isinstance(event, Purchase):
                key = user_key(event.user)
                if shard.owns(key):
                    amount = event.amount
                    if amount.scale > self.scale:
                        shard.rescale(10 ** (amount.scale - self.scale))
                        self.scale = amount.scale
                    units = amount.at_scale(self.scale)
                    shard.buy(key, event.user, event.timestamp, seq, units, now=True)
            else:
                one, two = user_key(event.user1), user_key(event.user2)
                added = type(event) is Befriend
                if shard.owns(one):
                    shard.link(seq, one, event.user1, two, added, now=True)
                if shard.owns(two):
                    shard.link(seq, two, event.user2, one, added, now=True)
            seq += 1
        return seq, self.scale, bad

    def begin(
        self, scale: int, writes: list[Write], checks: Box, after: object
    ) -> list[Box] | Box:
        """Take the epoch (at decimal ``scale``): its writes into the delta, then round 1.

        ``after`` is the previous epoch's ``decide`` result: waiting for it keeps
        the epochs in order on Ray.
        """
        shard = self.shard
        if scale > self.scale:
            shard.rescale(10 ** (scale - self.scale))
            self.scale = scale
        for kind, seq, key, name, one, two in writes:
            if kind == 0:
                shard.buy(key, name, one, seq, two, now=False)
            else:
                shard.link(seq, key, name, one, bool(two), now=False)
        return _parts(shard.begin(checks))

    def step(self, *inboxes: Box) -> list[Box] | Box:
        return _parts(self.shard.step(inboxes))

    def gather(self, *inboxes: Box) -> list[Box] | Box:
        return _parts(self.shard.gather(inboxes))

    def decide(self, *inboxes: Box) -> Sums:
        return self.shard.decide(inboxes)

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


class Nodes(Protocol):
    """Where the shard nodes run: :meth:`call` starts a method, :meth:`get` waits for results."""

    count: int

    def call(self, shard: int, method: str, *args: Any, parts: bool = False) -> Any:
        """Start ``method`` on node ``shard``; a handle on its result (``parts``: one per
        shard, the result being a list of ``count`` messages)."""

    def get(self, handles: list[Any]) -> list[Any]:
        """The results behind ``handles``, in order."""


class LocalNodes:
    """The nodes as plain objects in this process: calls run at once, in order."""

    def __init__(self, count: int, D: int, T: int) -> None:
        self.count = count
        self.nodes = [ShardNode(index, count, D, T) for index in range(count)]

    def call(self, shard: int, method: str, *args: Any, parts: bool = False) -> Any:
        result = getattr(self.nodes[shard], method)(*args)
        return [result] if parts and self.count == 1 else result

    def get(self, handles: list[Any]) -> list[Any]:
        return handles


class RayNodes:
    """The nodes as Ray actors: calls return object refs, and messages stay in the object store."""

    def __init__(self, ray: Any, actors: list[Any], fail: Any) -> None:
        self.ray = ray
        self.actors = actors
        self.count = len(actors)
        self._fail = fail  # RayError -> the exception to raise (a WorkerError)

    def call(self, shard: int, method: str, *args: Any, parts: bool = False) -> Any:
        remote = getattr(self.actors[shard], method)
        if not parts:
            return remote.remote(*args)
        refs = remote.options(num_returns=self.count).remote(*args)
        return refs if self.count > 1 else [refs]

    def get(self, handles: list[Any]) -> list[Any]:
        try:
            return list(self.ray.get(handles))
        except self.ray.exceptions.RayError as error:
            raise self._fail(error) from None


def submit_epoch(
    nodes: Nodes, D: int, scale: int, writes: Sequence[list[Write]], checks: Box, after: list[Any]
) -> list[Any]:
    """Start one epoch on every node; handles on each node's :meth:`ShardNode.decide` sums.

    ``checks`` is ``(2, C)``: each check's seq and buyer key, in stream order;
    ``after`` the previous epoch's handles (or Nones).
    """
    count = nodes.count
    parts = [
        nodes.call(s, "begin", scale, writes[s], checks, after[s], parts=True) for s in range(count)
    ]
    for _ in range(D - 1):
        parts = [nodes.call(d, "step", *_column(parts, d), parts=True) for d in range(count)]
    parts = [nodes.call(d, "gather", *_column(parts, d), parts=True) for d in range(count)]
    return [nodes.call(d, "decide", *_column(parts, d)) for d in range(count)]


def _column(parts: list[Any], shard: int) -> list[Any]:
    """What shard ``shard`` receives: the message every shard addressed to it."""
    return [sent[shard] for sent in parts]


def checks_box(seqs: list[int], buyers: list[int]) -> Box:
    """The epoch's checks as the ``(2, C)`` array :meth:`Shard.begin` takes."""
    return np.array([seqs, buyers], dtype=np.int64).reshape(2, len(seqs))
