"""One shard of a partitioned state, and the check's kernels that run on it (pure Python).

With ``--shards P`` no process holds the whole state: users are hashed to P
shards, and shard ``s`` keeps only the users it owns, their friend lists
(friends named by key, wherever they live) and their last T purchases. A check
is a breadth-first search in D rounds across the shards, then a gather of each
shard's newest T purchases of the network's members to the buyer's shard
(docs/scaling.md, "A check"). This module is that shard and its kernels; it
knows nothing of Ray, files or the driver: :mod:`netflag.distributed.shards`
moves the arrays between shards.

**Order.** Writes never depend on decisions, so the driver cuts the stream into
epochs and sends a shard all of an epoch's writes before its checks. They go
into a *delta* tagged with their arrival number (seq), and every read of a
check at seq ``s`` is "as of ``s``": the base (the state at the epoch's start)
plus the delta's writes numbered below ``s``. At the epoch's end the delta is
merged into the base. That gives each check exactly the state one process
would give it (docs/scaling.md, "Keeping the order exact").

Its messages are the arrays of :mod:`netflag.engine.shard_messages`.
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import nlargest
from mmap import mmap

import numpy as np

from netflag.engine.history import SEQ_BITS, History, order_key
from netflag.engine.ids import KeyClash
from netflag.engine.shard_messages import Box, box, sums_of, unpack

_LOW = (1 << SEQ_BITS) - 1


class Shard:
    """The users hashed to shard ``index`` of ``count``, at one decimal scale of units.

    Local numbers index the per-user lists; ``keys`` turn them back into keys.
    """

    def __init__(self, index: int, count: int, D: int, T: int) -> None:
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count} does not exist")
        self.index, self.count, self.D, self.T = index, count, D, T
        self.local: dict[int, int] = {}
        self.keys: list[int] = []
        self.names: list[str] = []
        self.adj: list[set[int]] = []  # friends by key
        self.history = History(T)
        # The epoch's delta, by local number, each in seq order.
        self._links: dict[int, list[tuple[int, int, bool]]] = {}  # (seq, friend key, added)
        self._bought: dict[int, list[tuple[int, int]]] = {}  # (order key, units)
        # The epoch's checks: seq and buyer key of each, and the search's state per check.
        self._seqs: list[int] = []
        self._buyers: list[int] = []
        self._visited: dict[int, set[int]] = {}
        self._sent: dict[int, set[int]] = {}
        self._frontier: dict[int, list[int]] = {}
        self.messages = 0  # logical messages sent to other shards (BFS and gather), all checks
        self.ids_sent = 0
        self.entries_sent = 0
        # Work, for a cluster's sizing: friend-list entries read by the BFS, ids received,
        # purchases looked at by the gather (each kernel looks at its own way).
        self.entries_read = self.ids_received = self.keys_read = 0

    # -- users and writes --------------------------------------------------------

    def owns(self, key: int) -> bool:
        return key % self.count == self.index

    @property
    def users(self) -> int:
        return len(self.keys)

    def intern(self, key: int, name: str) -> int:
        """The local number of user ``name`` (key ``key``, owned here), new if unseen."""
        number = self.local.get(key)
        if number is None:
            number = self.local[key] = len(self.keys)
            self.keys.append(key)
            self.names.append(name)
            self.adj.append(set())
            self.history.grow(number + 1)
        elif self.names[number] != name:
            raise KeyClash(
                f"user ids {self.names[number]!r} and {name!r} hash to one key: "
                "they cannot be told apart on shards; run without --shards"
            )
        return number

    def link(self, seq: int, key: int, name: str, friend: int, added: bool, *, now: bool) -> None:
        """Befriend (``added``) or unfriend ``key``'s side of an edge, now or in the delta."""
        user = self.intern(key, name)
        if now:
            (self.adj[user].add if added else self.adj[user].discard)(friend)
        else:
            self._links.setdefault(user, []).append((seq, friend, added))

    def buy(self, key: int, name: str, ts: int, seq: int, units: int, *, now: bool) -> None:
        """Record a purchase: now (batch) or in the delta."""
        user = self.intern(key, name)
        if now:
            self.history.add(user, order_key(ts, seq), units)
        else:
            self._bought.setdefault(user, []).append((order_key(ts, seq), units))

    def apply(self, rows: Box, names: np.ndarray, ends: np.ndarray) -> None:
        """An epoch's writes into the delta, as :func:`~netflag.engine.shard_messages.pack`
        lays them out (the compiled shard reads them in one C loop)."""
        for kind, seq, key, name, one, two in unpack(rows, names, ends):
            if kind == 0:
                self.buy(key, name, one, seq, two, now=False)
            else:
                self.link(seq, key, name, one, bool(two), now=False)

    def rescale(self, factor: int) -> None:
        """Multiply every stored amount by ``factor`` (a finer decimal scale arrived)."""
        if factor != 1:
            self.history.rescale(factor)
            self._bought = {u: [(k, v * factor) for k, v in b] for u, b in self._bought.items()}

    def feed(
        self,
        data: bytes | mmap,
        pos: int,
        end: int,
        line: int,
        seq: int,
        scale: int,
        max_id: int,
        max_line: int,
    ) -> tuple[int, int, int]:
        """The compiled shard's batch fast path; the twin applies nothing here (every
        line then takes the caller's path), as ``pycore.Core.feed``."""
        return pos, line, seq

    def loaded(self) -> None:
        """The batch is in (the compiled shard forgets its fast path's ids)."""

    @property
    def between_epochs(self) -> bool:
        """True when no epoch's writes are pending (the delta is empty)."""
        return not (self._links or self._bought)

    def end_epoch(self) -> None:
        """Merge the delta into the base, in seq order, and forget the epoch's checks."""
        for user, links in self._links.items():
            friends = self.adj[user]
            for _, friend, added in links:
                (friends.add if added else friends.discard)(friend)
        for user, bought in self._bought.items():
            for key, units in bought:
                self.history.add(user, key, units)
        self._links, self._bought = {}, {}
        self._seqs, self._buyers = [], []
        self._visited, self._sent, self._frontier = {}, {}, {}

    # -- reads as of a seq -------------------------------------------------------

    def friends_at(self, user: int, seq: int) -> set[int]:
        """The user's friends' keys as of arrival ``seq`` (the delta's writes before it)."""
        links = self._links.get(user)
        if links is None:
            return self.adj[user]
        friends = set(self.adj[user])
        for at, friend, added in links:
            if at >= seq:
                break
            (friends.add if added else friends.discard)(friend)
        return friends

    def newest_at(self, members: set[int], seq: int) -> list[tuple[int, int]]:
        """The T newest ``(order key, units)`` of ``members`` as of arrival ``seq``.

        The base holds each member's T newest as of the epoch's start; a
        purchase since can only push older ones out, so the T newest of the
        base's T newest and the delta's purchases before ``seq`` are exact.
        """
        T = self.T
        found = [(key, units) for key, _, units in self.history.newest_of(members, T)]
        self.keys_read += len(members) + len(found)  # each member's newest, then the merge
        bought = self._bought
        for user in members if len(members) < len(bought) else bought:
            if user in bought and user in members:
                later = [(k, v) for k, v in bought[user] if k & _LOW < seq]
                self.keys_read += len(later)
                found += later
        return nlargest(T, found) if len(found) > T else found

    # -- a check: begin, rounds, gather, decide ------------------------------------

    def begin(self, checks: Box) -> list[Box]:
        """Start the epoch's checks (``(2, C)``: seq, buyer key) and run round 1 of those
        whose buyer lives here; returns the round's messages, one per shard."""
        self._seqs = checks[0].tolist()
        self._buyers = checks[1].tolist()
        for check, buyer in enumerate(self._buyers):
            if self.owns(buyer):
                user = self.local[buyer]  # the purchase's own write interned it
                self._visited[check] = {user}
                self._frontier[check] = [user]
        return self._expand()

    def step(self, inboxes: Sequence[Box]) -> list[Box]:
        """Round 2..D: mark what arrived, expand the frontier, send what lives elsewhere."""
        self._arrive(inboxes)
        return self._expand()

    def _arrive(self, inboxes: Sequence[Box]) -> None:
        visited, frontier, local = self._visited, self._frontier, self.local
        for message in inboxes:
            self.ids_received += message.shape[1]
            for check, key in zip(message[0].tolist(), message[1].tolist(), strict=True):
                user = local[key]  # a friend's owner interned it with the friendship
                seen = visited.setdefault(check, set())
                if user not in seen:
                    seen.add(user)
                    frontier.setdefault(check, []).append(user)

    def _expand(self) -> list[Box]:
        """Expand every check's frontier one hop: mark the friends owned here, send the rest."""
        out: list[list[tuple[int, int]]] = [[] for _ in range(self.count)]
        count, index, local = self.count, self.index, self.local
        frontier, self._frontier = self._frontier, {}
        for check, users in frontier.items():
            seq = self._seqs[check]
            seen = self._visited[check]
            sent = self._sent.setdefault(check, set())
            grown: list[int] = []
            to: set[int] = set()
            for user in users:
                friends = self.friends_at(user, seq)
                self.entries_read += len(friends)
                for friend in friends:
                    shard = friend % count
                    if shard == index:
                        number = local[friend]
                        if number not in seen:
                            seen.add(number)
                            grown.append(number)
                    elif friend not in sent:
                        sent.add(friend)
                        out[shard].append((check, friend))
                        to.add(shard)
            if grown:
                self._frontier[check] = grown
            self.messages += len(to)
        self.ids_sent += sum(map(len, out))
        return [box(rows, 2) for rows in out]

    def gather(self, inboxes: Sequence[Box]) -> list[Box]:
        """Mark round D's arrivals, then send each check's home its T newest here."""
        self._arrive(inboxes)
        out: list[list[tuple[int, int, int, int]]] = [[] for _ in range(self.count)]
        count, buyers = self.count, self._buyers
        for check, seen in self._visited.items():
            members = seen
            if self.owns(buyers[check]):
                members = seen - {self.local[buyers[check]]}
            if not members:
                continue
            newest = self.newest_at(members, self._seqs[check])
            if newest:
                home = buyers[check] % count
                out[home] += [(check, key >> SEQ_BITS, key & _LOW, units) for key, units in newest]
                self.messages += home != self.index
        self.entries_sent += sum(len(rows) for shard, rows in enumerate(out) if shard != self.index)
        return [box(rows, 4) for rows in out]

    def decide(self, inboxes: Sequence[Box]) -> list[tuple[int, int, int, int]]:
        """Merge the gathered purchases of the checks whose buyer lives here; end the epoch.

        Returns :func:`sums_of` them.
        """
        sums = sums_of(inboxes, self.T)
        self.end_epoch()
        return sums

    # -- sizes -------------------------------------------------------------------------

    def kept(self) -> int:
        return sum(map(len, self.history.tails))

    def half_edges(self) -> int:
        return sum(map(len, self.adj))

    def state_bytes(self) -> int:
        """What this shard's state costs in the compiled core's layout (docs/design.md):
        32 + 32 bytes a kept purchase (tail and index), 8 a friend-list entry, 16 a user."""
        return 64 * self.kept() + 8 * self.half_edges() + 16 * self.users


__all__ = ["Shard"]
