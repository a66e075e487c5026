# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False, infer_types=True
# distutils: language = c++
"""The engine's state as arrays and its check kernels, compiled (see docs/design.md).

``Core`` holds what :class:`netflag.engine.Engine` needs and nothing else
(its pure-Python twin, :mod:`netflag.engine.pycore`, has the same methods): user numbers (``int32``), friend lists, each user's last T
purchases and one recency index over all of them, as C++ vectors of plain
structs. No Python object per user or per purchase. Every result is exact: keys
are integers, amounts are integer units, and the baseline sums are 128-bit
integers handed to Python as Python ints (amounts stay below ``2**48`` units,
``UNITS_LIMIT``; the engine falls back to the pure-Python engine beyond).

A purchase's order is its key ``(ts, seq)``: timestamp, then arrival.

Here: the state and every public method. The kernels are C functions over the state,
included at the end: ``_history.pxi`` (tails and index as purchases arrive),
``_search.pxi`` (network search, baseline), ``_walk.pxi`` (its walks of the index),
``_recommend.pxi`` (suggestions), ``_columns.pxi`` (load, export), ``_parse.pxi`` and
``_canonical.pxi`` (the batch fast path); the C++ helpers they share are declared in ``_support.pxi``.
"""

from libc.math cimport sqrt
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp.algorithm cimport sort
from libcpp.string cimport string
from libcpp.vector cimport vector
from cpython cimport array

import array as _array

include "_support.pxi"  # the C++ helpers of _core_support.h, declared

UNITS_LIMIT = 1 << 48
cdef int64_t _UNITS_LIMIT = UNITS_LIMIT  # amounts below this many units keep T * units**2 inside 128 bits
SEQ_LIMIT = 1 << 48  # history.SEQ_BITS: the Python twin keys purchases by ts << 48 | seq
STRATEGIES = ("auto", "merge", "scan", "walk")
PATHS = ("merge", "scan", "walk")
DEF AUTO = 0
DEF MERGE = 1
DEF SCAN = 2
DEF WALK = 3


cdef class Core:
    """Friend lists, per-user last-T purchases and a recency index, with the check kernels."""

    cdef readonly int D, T
    cdef nf_names ids                        # user ids (UTF-8) <-> numbers
    cdef nf_graph graph                     # friend lists (_graph.h)
    cdef vector[vector[nf_entry]] tails     # per user: ascending by key, at most T
    cdef nf_recency recency                 # every kept purchase by key (+ dead ones)
    cdef nf_bits mark                       # the current search's users
    cdef vector[int32_t] tally              # mutual friends a candidate has (recommend)
    cdef vector[int32_t] queue              # BFS order; queue[0] is the buyer
    cdef vector[size_t] ends                # ends[r]: queue length once radius r is in
    cdef vector[nf_head] heads
    cdef vector[nf_entry] picked            # what _newest found
    cdef vector[uint32_t] seen              # the candidate's side of a far walk
    cdef uint32_t seen_stamp
    cdef vector[int32_t] reach_queue
    cdef readonly int64_t max_units

    def __init__(self, int D, int T):
        if D < 1 or T < 2:
            raise ValueError("D must be >= 1 and T >= 2")
        self.D, self.T = D, T
        self.max_units = 0
        self.seen_stamp = 0

    # -- users and friendships ------------------------------------------------

    @property
    def users(self):
        return self.ids.names.size()

    def intern(self, str name):
        """The number of user ``name``, given the next free one if it is new."""
        cdef bytes key = name.encode("utf-8", "surrogatepass")
        return self._intern(key, len(key))

    cdef int32_t _intern(self, const char *key, size_t size) noexcept:
        cdef int32_t number = self.ids.intern(key, size)
        if <size_t>number >= self.graph.users():
            self._make_room(number + 1)
        return number

    def number(self, str name):
        """The number of user ``name``, None if never seen."""
        cdef bytes key = name.encode("utf-8", "surrogatepass")
        cdef int32_t number = self.ids.find(key, len(key), NULL)
        return None if number < 0 else number

    def name(self, int32_t number):
        """The user id behind a number."""
        return self.ids.names.at(number).decode("utf-8", "surrogatepass")

    def all_names(self):
        """Every user id, by number."""
        return [name.decode("utf-8", "surrogatepass") for name in self.ids.names]

    cdef void _make_room(self, size_t users) noexcept:
        """Make room for user numbers below ``users``."""
        if users > self.graph.users():
            self.graph.resize(users)
            self.tails.resize(users)
            self.mark.resize(users)

    cdef inline void _known(self, int32_t user) except *:
        """Numbers come from intern(); anything else is a caller's bug, not a crash."""
        if user < 0 or <size_t>user >= self.graph.users():
            raise IndexError(f"no user number {user}")

    cdef inline void _pair(self, int32_t a, int32_t b) except *:
        self._known(a)
        self._known(b)
        if a == b:
            raise ValueError("a user cannot befriend themselves")

    def befriend(self, int32_t a, int32_t b):
        """Add the edge; False when it already existed."""
        self._pair(a, b)
        if self.graph.linked(a, b):
            return False
        self.graph.link(a, b)
        self.graph.link(b, a)
        return True

    def unfriend(self, int32_t a, int32_t b):
        """Remove the edge; False when it was absent."""
        self._pair(a, b)
        if not self.graph.linked(a, b):
            return False
        self.graph.unlink(a, b)
        self.graph.unlink(b, a)
        return True

    def friends(self, int32_t user):
        """The user's friends, sorted."""
        self._known(user)
        cdef const int32_t *row = self.graph.row(user)
        return sorted([row[i] for i in range(self.graph.degree(user))])

    def by_id(self, users):
        """``users`` (numbers) in id order (:func:`netflag.engine.ids.id_order`)."""
        cdef vector[int32_t] found
        cdef int32_t user
        for user in users:
            self._known(user)
            found.push_back(user)
        nf_sort_ids(found, self.ids.names)
        return list(found)

    def pack(self):
        """Close the holes moved friend lists left in their array (_graph.h): after a
        bulk load. Changes no result."""
        self.graph.pack()

    def edges(self):
        """How many friendships there are."""
        return self.graph.entries // 2

    # -- purchases --------------------------------------------------------------

    def add(self, int32_t user, int64_t ts, int64_t seq, int64_t units):
        """Record a purchase; the user's oldest is evicted past T."""
        self._known(user)
        if units < 0 or units >= _UNITS_LIMIT:
            raise OverflowError("units out of the compiled core's range")
        cdef nf_entry e
        e.ts, e.seq, e.units, e.owner, e.gone = ts, seq, units, user, 0
        _add(self, e)

    def rescale(self, int64_t factor):
        """Multiply every stored amount by ``factor`` (the caller checked it stays exact)."""
        cdef size_t v, i
        for v in range(self.tails.size()):
            for i in range(self.tails[v].size()):
                self.tails[v][i].units *= factor
        self.recency.scale(factor)
        self.max_units *= factor

    def kept(self):
        """How many purchases are kept (at most T per user)."""
        cdef size_t total = 0, v
        for v in range(self.tails.size()):
            total += self.tails[v].size()
        return total

    def tail(self, int32_t user):
        """The user's kept purchases, oldest first, as ``(ts, seq, units)``."""
        self._known(user)
        return [(e.ts, e.seq, e.units) for e in self.tails[user]]

    # -- the kernels: C functions over the state, in the included files -----------

    cdef void _new_search(self) noexcept:
        """A new search: the marks of the last one cleared."""
        self.mark.clear()

    def rings(self, int32_t user, int radius):
        """The users at exactly 1, 2, ... ``radius`` hops (fewer if the graph ends)."""
        self._known(user)
        return _rings(self, user, radius)

    def check(self, int32_t user, int strategy):
        """The buyer's baseline sums: ``(n, S1, S2, path)`` with ``path`` in ``PATHS``.

        ``strategy`` indexes ``STRATEGIES``; every one gives the same sums.
        """
        self._known(user)
        return _check(self, user, strategy)

    def newest_of(self, members, Py_ssize_t count):
        """The ``count`` newest purchases of ``members`` as ``(ts, seq, owner, units)``, newest first."""
        return _newest_of(self, members, count)

    def common(self, int32_t a, int32_t b):
        """The friends ``a`` and ``b`` share, in id order."""
        self._known(a)
        self._known(b)
        return _common(self, a, b)

    def recommend(self, int32_t user, int limit):
        """Users at distance exactly 2 from ``user`` and how many friends they share,
        the best ``limit`` first: more mutual friends, then id order."""
        self._known(user)
        return _recommend(self, user, limit)

    def load(self, list user_ids, const int32_t[:] lo, const int32_t[:] hi,
             const int64_t[:] ts, const int64_t[:] seq, const int32_t[:] owner,
             const int64_t[:] units, int64_t below=SEQ_LIMIT):
        """Fill an empty core: user ids by number; edges ``lo < hi``; purchases sorted by
        key, numbered below ``below``, at most T per user. Any inconsistency is a
        ValueError, never a broken core."""
        _load(self, user_ids, lo, hi, ts, seq, owner, units, min(below, SEQ_LIMIT))

    def export(self):
        """The state as columns (``array``): edges ``(lo, hi)`` sorted, purchases by key."""
        return _export(self)

    def feed(self, const unsigned char[:] data, Py_ssize_t pos, Py_ssize_t end,
             Py_ssize_t line, int64_t seq, int scale, size_t max_id, size_t max_line):
        """Apply the event lines of ``data`` from ``pos`` while they have the canonical
        shape, the one ``netflag generate`` writes (``_canonical.pxi`` says which).

        Stops at any other line (the caller handles those, so rejects and their reasons
        stay in one place), or once past ``end``. Returns ``(pos, line, seq)``: where it
        stopped, the number of the last line consumed, and the next arrival number.
        """
        return _feed(self, data, pos, end, line, seq, scale, max_id, max_line)


include "_history.pxi"
include "_search.pxi"
include "_walk.pxi"
include "_recommend.pxi"
include "_columns.pxi"
include "_parse.pxi"
include "_canonical.pxi"
