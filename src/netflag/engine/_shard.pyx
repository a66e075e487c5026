# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False, infer_types=True
# distutils: language = c++
"""One shard of a partitioned state and its check kernels, compiled.

The twin of :class:`netflag.engine.shard.Shard` (the pure-Python one): the same
methods, the same messages, the same results and counters. The state is C++
vectors of plain values: a key table (open addressing), each user's friends by
key, each user's last T purchases ascending. The epoch's delta is per-user
lists of writes tagged with their seq. The epoch's checks keep their members,
frontiers and sent ids as lists; a round takes them one check at a time, its
members as bits over the shard's users (which stay in cache), its sent ids in a
small hash set. Amounts stay below ``UNITS_LIMIT`` units, so a baseline's sums
fit 128 bits; a shard whose run holds larger ones moves to the Python twin
(:func:`netflag.engine.shard_cores.to_python`).

Here: the state, its writes and every public method. The kernels are C
functions over the state, included at the end: ``_shard_load.pxi`` (the batch's
fast path, the arrays of a snapshot) and ``_shard_rounds.pxi`` (the rounds,
gather and decide); ``_shard_support.pxi`` declares the C++ helpers.
"""

from libc.stdint cimport int32_t, int64_t, uint64_t
from libcpp.algorithm cimport nth_element, sort
from libcpp.string cimport string
from libcpp.vector cimport vector

import numpy as np

from netflag.engine.ids import KeyClash, user_key
from netflag.engine.shard_messages import sums_of

include "_shard_support.pxi"  # the C++ helpers of _shard_support.h, declared

cdef nf_bought _NONE = nf_bought(-1, 0, 0)  # older than any purchase (timestamps are >= 0)

UNITS_LIMIT = 1 << 48  # as the compiled core: T * units**2 stays inside 128 bits
cdef int64_t _UNITS_LIMIT = UNITS_LIMIT


cdef class Shard:
    """The users hashed to shard ``index`` of ``count``: see :class:`netflag.engine.shard.Shard`."""

    cdef readonly int index, count, D, T
    cdef readonly int64_t max_units           # the largest amount kept, base or delta
    cdef public int64_t messages, ids_sent, entries_sent       # traffic, as the twin counts it
    cdef public int64_t entries_read, ids_received, keys_read  # work: see the twin's names
    cdef nf_keys local                         # key -> local number
    cdef nf_modulo owner                       # key -> its shard, key % count
    cdef vector[int64_t] keys_
    cdef vector[string] names_                 # UTF-8
    cdef vector[vector[int64_t]] adj           # friends by key, each once
    cdef vector[vector[nf_bought]] tails       # ascending by key, at most T
    cdef vector[nf_bought] latest              # each tail's newest (ts -1: none), for the gather
    cdef nf_recency recency                    # every kept purchase by key, for the gather's walk
    cdef vector[nf_entry] picked               # what a walk took
    # The epoch's delta: per user an index into links / bought (-1: none), in seq order.
    cdef vector[int32_t] link_at, buy_at
    cdef vector[vector[nf_link]] links
    cdef vector[vector[nf_bought]] bought
    cdef vector[int32_t] linked, buyers_in     # the users with a delta, for end_epoch
    # The epoch's checks: seq, buyer key and buyer's local number here (or -1) of each; per
    # check its members here (the buyer aside), its frontier, the ids that arrived for it, the
    # ids it sent. A round takes one check at a time: its members become bits in `mark`, its
    # sent ids keys in `sending`, both cleared before the next check.
    cdef vector[int64_t] seqs, buyers
    cdef vector[int32_t] home
    cdef vector[vector[int32_t]] frontier, members
    cdef vector[vector[int64_t]] arrived, sent
    cdef nf_bits mark
    cdef nf_keyset sending
    # The batch load's fast path: every id it met (all shards'), with its key.
    cdef nf_names *ids
    cdef vector[int64_t] id_keys

    def __init__(self, int index, int count, int D, int T):
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count} does not exist")
        if D < 1 or T < 2:
            raise ValueError("D must be >= 1 and T >= 2")
        self.index, self.count, self.D, self.T = index, count, D, T
        self.owner.set(count)

    # -- users and writes --------------------------------------------------------

    def owns(self, int64_t key):
        return key % self.count == self.index

    @property
    def users(self):
        return self.keys_.size()

    @property
    def between_epochs(self):
        """True when no epoch's writes are pending (the delta is empty)."""
        return self.linked.empty() and self.buyers_in.empty()

    def __dealloc__(self):
        del self.ids

    def intern(self, int64_t key, str name):
        """The local number of user ``name`` (key ``key``, owned here), new if unseen."""
        cdef bytes text = name.encode("utf-8", "surrogatepass")
        cdef int32_t number = self._intern(key, text, len(text))
        if number < 0:
            other = self.names_[self.local.find(key)].decode("utf-8", "surrogatepass")
            raise KeyClash(
                f"user ids {other!r} and {name!r} hash to one key: "
                "they cannot be told apart on shards; run without --shards"
            )
        return number

    cdef int32_t _intern(self, int64_t key, const char *name, size_t size) noexcept:
        """The local number of ``key`` (owned here), new if unseen; -1 when another name
        holds the key already."""
        cdef int32_t number = self.local.find(key)
        if number >= 0:
            if self.names_[number].size() != size or memcmp(self.names_[number].data(), name, size):
                return -1
            return number
        number = self.keys_.size()
        self.local.put(key, number)
        self.keys_.push_back(key)
        self.names_.push_back(string(name, size))
        self.adj.resize(number + 1)
        self.tails.resize(number + 1)
        self.latest.push_back(_NONE)
        self.link_at.push_back(-1)
        self.buy_at.push_back(-1)
        return number

    def link(self, int64_t seq, int64_t key, str name, int64_t friend, bint added, *, bint now):
        """Befriend (``added``) or unfriend ``key``'s side of an edge, now or in the delta."""
        cdef int32_t user = self.intern(key, name)
        if now:
            nf_relink(self.adj[user], friend, added)
        else:
            _link_later(self, user, seq, friend, added)

    def buy(self, int64_t key, str name, int64_t ts, int64_t seq, units, *, bint now):
        """Record a purchase: now (batch) or in the delta."""
        if units >= _UNITS_LIMIT:
            raise OverflowError("an amount is too large for the compiled shard")
        cdef int32_t user = self.intern(key, name)
        cdef nf_bought e = nf_bought(ts, seq, units)
        self.max_units = max(self.max_units, e.units)
        if now:
            _keep(self, user, e)
        else:
            _buy_later(self, user, e)

    def apply(self, rows, const unsigned char[:] names, const int64_t[:] ends):
        """An epoch's writes into the delta, as :func:`~netflag.engine.shard_messages.pack`
        lays them out."""
        _apply(self, rows, names, ends)

    def rescale(self, factor):
        """Multiply every stored amount by ``factor`` (a finer decimal scale arrived)."""
        if factor == 1:
            return
        if self.max_units * factor >= _UNITS_LIMIT:
            raise OverflowError("amounts are too large for the compiled shard")
        cdef int64_t by = factor
        cdef size_t u, i
        for u in range(self.tails.size()):
            for i in range(self.tails[u].size()):
                self.tails[u][i].units *= by
        for u in range(self.bought.size()):
            for i in range(self.bought[u].size()):
                self.bought[u][i].units *= by
        self.recency.scale(by)
        self.max_units *= by

    def end_epoch(self):
        """Merge the delta into the base, in seq order, and forget the epoch's checks."""
        cdef int32_t user
        cdef nf_link *write
        cdef size_t i
        for user in self.linked:
            for i in range(self.links[self.link_at[user]].size()):
                write = &self.links[self.link_at[user]][i]
                nf_relink(self.adj[user], write.friend_key, write.added)
            self.link_at[user] = -1
        for user in self.buyers_in:
            for i in range(self.bought[self.buy_at[user]].size()):
                _keep(self, user, self.bought[self.buy_at[user]][i])
            self.buy_at[user] = -1
        self.linked.clear()
        self.links.clear()
        self.buyers_in.clear()
        self.bought.clear()
        self.seqs.clear()
        self.buyers.clear()
        self.home.clear()
        self.frontier.clear()
        self.members.clear()
        self.arrived.clear()
        self.sent.clear()

    # -- the batch load's fast path ----------------------------------------------

    def feed(self, const unsigned char[:] data, Py_ssize_t pos, Py_ssize_t end,
             Py_ssize_t line, int64_t seq, int scale, size_t max_id, size_t max_line):
        """``Core.feed`` for a shard: read the canonical lines of ``data`` from ``pos``, as
        every shard does, and apply those that touch this shard's users.

        Stops where ``Core.feed`` stops (a line it cannot read, a finer scale, a
        self-friendship, an amount too large), and at an id whose key another id
        holds here: the caller's path handles those lines. Returns ``(pos, line,
        seq)``. Each id's key is hashed once; :meth:`loaded` forgets them.
        """
        return _feed(self, data, pos, end, line, seq, scale, max_id, max_line)

    def loaded(self):
        """The batch is in: forget the ids the fast path met (most are other shards')."""
        del self.ids
        self.ids = NULL
        self.id_keys = vector[int64_t]()

    # -- a check: begin, rounds, gather, decide ------------------------------------

    def begin(self, const int64_t[:, :] checks):
        """Start the epoch's checks (``(2, C)``: seq, buyer key) and run round 1 of those
        whose buyer lives here; returns the round's messages, one per shard."""
        return _begin(self, checks)

    def step(self, inboxes):
        """Round 2..D: mark what arrived, expand the frontier, send what lives elsewhere."""
        return _step(self, inboxes)

    cdef int32_t _number(self, int64_t key) except -1:
        cdef int32_t number = self.local.find(key)
        if number < 0:
            raise KeyError(f"user key {key} is not on shard {self.index}")
        return number

    def gather(self, inboxes):
        """Mark round D's arrivals, then send each check's home its T newest here."""
        return _gather(self, inboxes)

    def decide(self, inboxes):
        """Merge the gathered purchases of the checks whose buyer lives here; end the epoch.

        Returns ``(check, n, S1, S2)`` for each such check whose baseline has at
        least two purchases: the exact sums the flag rule needs. Amounts past 64 bits
        (from a shard that moved to the Python twin) are summed by the twin's rule.
        """
        return _decide(self, inboxes)

    # -- sizes and columns -----------------------------------------------------------

    def kept(self):
        cdef size_t total = 0, u
        for u in range(self.tails.size()):
            total += self.tails[u].size()
        return total

    def half_edges(self):
        cdef size_t total = 0, u
        for u in range(self.adj.size()):
            total += self.adj[u].size()
        return total

    def state_bytes(self):
        """Bytes in the compiled core's layout: 64 a kept purchase, 8 a friend, 16 a user."""
        return 64 * self.kept() + 8 * self.half_edges() + 16 * self.users

    def export(self):
        """The state at an epoch's end as the arrays of ``shard_snapshot.shard_columns``."""
        return _export(self)

    def load(self, columns):
        """Fill this empty shard from :meth:`export`'s arrays; ValueError (or KeyError) when
        they do not fit, OverflowError when an amount is too large for this core."""
        return _load(self, columns)


include "_parse.pxi"  # the canonical-line parser of the batch fast path
include "_shard_load.pxi"
include "_shard_rounds.pxi"
