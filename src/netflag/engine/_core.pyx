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
"""

from libc.math cimport sqrt
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libcpp.algorithm cimport sort
from libcpp.string cimport string
from libcpp.vector cimport vector
from cpython cimport array

import array as _array

cdef extern from "_core_support.h" nogil:
    cppclass nf_names:
        vector[string] names
        int32_t find(const char *p, size_t n, size_t *slot_at)
        int32_t intern(const char *p, size_t n)
    struct nf_entry:
        int64_t ts
        int64_t seq
        int64_t units
        int32_t owner
    struct nf_head:
        int64_t ts
        int64_t seq
        int32_t member
        int32_t pos
    ctypedef unsigned long long nf_u128  # really unsigned __int128: only + and the helpers
    bint nf_less(const nf_entry &a, const nf_entry &b)
    void nf_heap_make(vector[nf_head] &h)
    void nf_heap_pop(vector[nf_head] &h)
    void nf_heap_push(vector[nf_head] &h)
    void nf_select(vector[nf_head] &h, size_t count)
    uint64_t nf_lo(nf_u128 x)
    uint64_t nf_hi(nf_u128 x)
    nf_u128 nf_square(int64_t x)
    void nf_sort_ids(vector[int32_t] &v, const vector[string] &names)
    void nf_top(vector[int32_t] &v, size_t count, const vector[int32_t] &tally,
                const vector[string] &names)

UNITS_LIMIT = 1 << 48
cdef int64_t _UNITS_LIMIT = UNITS_LIMIT  # amounts below this many units keep T * units**2 inside 128 bits
STRATEGIES = ("auto", "merge", "scan", "walk")
PATHS = ("merge", "scan", "walk")
DEF AUTO = 0
DEF MERGE = 1
DEF SCAN = 2
DEF WALK = 3
cdef array.array _INT32 = _array.array('i')
cdef array.array _INT64 = _array.array('q')
cdef int64_t NO_KEY = -(1 << 62)
# The buyer's side of a walk is marked to at most this radius (the rest is searched
# from each candidate); tuned on generated graphs, see docs/benchmarks.md.
DEF NEAR_LIMIT = 2
# Out-of-order arrivals wait in a small sorted side array, merged in past this size.
cdef size_t SIDE_MIN = 4096


include "_canonical.pxi"


cdef class Core:
    """Friend lists, per-user last-T purchases and a recency index, with the check kernels."""

    cdef readonly int D, T
    cdef nf_names ids                        # user ids (UTF-8) <-> numbers
    cdef vector[vector[int32_t]] adj
    cdef vector[vector[nf_entry]] tails     # per user: ascending by key, at most T
    cdef vector[int64_t] floor_ts, floor_seq  # key of tails[v][0] once full, else NO_KEY
    cdef vector[nf_entry] index             # every kept purchase, ascending (+ dead ones)
    cdef vector[nf_entry] side              # late arrivals, ascending
    cdef size_t dead                        # evicted entries still in index or side
    cdef vector[uint32_t] mark
    cdef vector[int32_t] tally              # mutual friends a candidate has (recommend)
    cdef uint32_t stamp
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
        self.stamp = 0
        self.dead = 0
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
        if <size_t>number >= self.adj.size():
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
        cdef size_t n = self.adj.size()
        if users > n:
            self.adj.resize(users)
            self.tails.resize(users)
            self.floor_ts.resize(users, NO_KEY)
            self.floor_seq.resize(users, NO_KEY)
            self.mark.resize(users, 0)

    cdef bint _linked(self, int32_t a, int32_t b) noexcept:
        cdef vector[int32_t] *small = &self.adj[a]
        cdef int32_t other = b
        if self.adj[b].size() < small.size():
            small, other = &self.adj[b], a
        cdef size_t i
        for i in range(small.size()):
            if small[0][i] == other:
                return True
        return False

    cdef inline void _known(self, int32_t user) except *:
        """Numbers come from intern(); anything else is a caller's bug, not a crash."""
        if user < 0 or <size_t>user >= self.adj.size():
            raise IndexError(f"no user number {user}")

    cdef inline void _pair(self, int32_t a, int32_t b) except *:
        self._known(a)
        self._known(b)
        if a == b:
            raise ValueError("a user cannot befriend themselves")

    def befriend(self, int32_t a, int32_t b):
        """Add the edge; False when it already existed."""
        self._pair(a, b)
        if self._linked(a, b):
            return False
        self.adj[a].push_back(b)
        self.adj[b].push_back(a)
        return True

    cdef void _drop(self, int32_t a, int32_t b) noexcept:
        cdef vector[int32_t] *row = &self.adj[a]
        cdef size_t i
        for i in range(row.size()):
            if row[0][i] == b:
                row[0][i] = row.back()
                row.pop_back()
                return

    def unfriend(self, int32_t a, int32_t b):
        """Remove the edge; False when it was absent."""
        self._pair(a, b)
        if not self._linked(a, b):
            return False
        self._drop(a, b)
        self._drop(b, a)
        return True

    def friends(self, int32_t user):
        """The user's friends, sorted."""
        self._known(user)
        return sorted(self.adj[user])

    def by_id(self, users):
        """``users`` (numbers) in id order (:func:`netflag.engine.ids.id_order`)."""
        cdef vector[int32_t] found
        cdef int32_t user
        for user in users:
            self._known(user)
            found.push_back(user)
        nf_sort_ids(found, self.ids.names)
        return list(found)

    def common(self, int32_t a, int32_t b):
        """The friends ``a`` and ``b`` share, in id order."""
        self._known(a)
        self._known(b)
        self._new_stamp()
        cdef uint32_t stamp = self.stamp
        cdef vector[int32_t] *row = &self.adj[a]
        cdef vector[int32_t] found
        cdef size_t i
        for i in range(row.size()):
            self.mark[row[0][i]] = stamp
        row = &self.adj[b]
        for i in range(row.size()):
            if self.mark[row[0][i]] == stamp:
                found.push_back(row[0][i])
        nf_sort_ids(found, self.ids.names)
        return list(found)

    def recommend(self, int32_t user, int limit):
        """Users at distance exactly 2 from ``user`` and how many friends they share,
        the best ``limit`` first: more mutual friends, then id order."""
        self._known(user)
        if self.tally.size() < self.adj.size():
            self.tally.resize(self.adj.size(), 0)
        self._new_stamp()
        cdef uint32_t stamp = self.stamp
        cdef vector[int32_t] *row = &self.adj[user]
        cdef vector[int32_t] *far
        cdef vector[int32_t] touched, best
        cdef size_t i, j
        cdef int32_t c
        self.mark[user] = stamp
        for i in range(row.size()):
            self.mark[row[0][i]] = stamp
        for i in range(row.size()):
            far = &self.adj[row[0][i]]
            for j in range(far.size()):
                c = far[0][j]
                if self.mark[c] != stamp:
                    if self.tally[c] == 0:
                        touched.push_back(c)
                    self.tally[c] += 1
        best = touched
        nf_top(best, <size_t>max(limit, 0), self.tally, self.ids.names)
        ranked = [(c, self.tally[c]) for c in best]
        for c in touched:
            self.tally[c] = 0
        return ranked

    # -- purchases --------------------------------------------------------------

    def add(self, int32_t user, int64_t ts, int64_t seq, int64_t units):
        """Record a purchase; the user's oldest is evicted past T."""
        self._known(user)
        if units < 0 or units >= _UNITS_LIMIT:
            raise OverflowError("units out of the compiled core's range")
        cdef nf_entry e
        e.ts, e.seq, e.units, e.owner = ts, seq, units, user
        self._add(e)

    cdef void _add(self, nf_entry e) noexcept:
        cdef vector[nf_entry] *tail = &self.tails[e.owner]
        cdef size_t T = self.T, i
        if tail.size() == T and nf_less(e, tail[0][0]):
            return  # older than all of the user's last T: can never be in a baseline
        if e.units > self.max_units:
            self.max_units = e.units
        if tail.size() == T:  # evict the oldest: shift the older ones down, e into place
            i = 0
            while i + 1 < T and nf_less(tail[0][i + 1], e):
                tail[0][i] = tail[0][i + 1]
                i += 1
            tail[0][i] = e
            self.dead += 1
        else:
            if tail.size() == tail.capacity():  # grow by doubling from 8, never past T
                tail.reserve(min(T, max(<size_t>8, 2 * tail.size())))
            tail.push_back(e)
            i = tail.size() - 1
            while i > 0 and nf_less(e, tail[0][i - 1]):  # a late arrival: insertion step
                tail[0][i] = tail[0][i - 1]
                i -= 1
            tail[0][i] = e
        if tail.size() == T:
            self.floor_ts[e.owner] = tail[0][0].ts
            self.floor_seq[e.owner] = tail[0][0].seq
        if self.index.empty() or nf_less(self.index.back(), e):
            self.index.push_back(e)
        else:
            self._insert_side(e)
        if self.dead > 1024 and self.dead * 2 > self.index.size() + self.side.size():
            self._compact()

    cdef void _insert_side(self, nf_entry e) noexcept:
        cdef vector[nf_entry] *side = &self.side
        side.push_back(e)
        cdef size_t i = side.size() - 1
        while i > 0 and nf_less(e, side[0][i - 1]):
            side[0][i] = side[0][i - 1]
            i -= 1
        side[0][i] = e
        cdef size_t limit = SIDE_MIN
        while limit * limit < self.index.size():
            limit *= 2
        if side.size() > limit:
            self._compact()

    cdef inline bint _live(self, const nf_entry *e) noexcept:
        cdef int32_t v = e.owner
        return e.ts > self.floor_ts[v] or (e.ts == self.floor_ts[v] and e.seq >= self.floor_seq[v])

    cdef void _compact(self) noexcept:
        """Merge the side array into the index and drop evicted entries: one linear pass."""
        cdef vector[nf_entry] merged
        merged.reserve(self.index.size() + self.side.size() - self.dead)
        cdef size_t i = 0, j = 0, n = self.index.size(), m = self.side.size()
        cdef const nf_entry *e
        while i < n or j < m:
            if j >= m or (i < n and nf_less(self.index[i], self.side[j])):
                e = &self.index[i]
                i += 1
            else:
                e = &self.side[j]
                j += 1
            if self._live(e):
                merged.push_back(e[0])
        self.index.swap(merged)
        self.side.clear()
        self.dead = 0

    def rescale(self, int64_t factor):
        """Multiply every stored amount by ``factor`` (the caller checked it stays exact)."""
        cdef size_t v, i
        for v in range(self.tails.size()):
            for i in range(self.tails[v].size()):
                self.tails[v][i].units *= factor
        for i in range(self.index.size()):
            self.index[i].units *= factor
        for i in range(self.side.size()):
            self.side[i].units *= factor
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

    # -- balls --------------------------------------------------------------------

    cdef void _new_stamp(self) noexcept:
        cdef size_t i
        self.stamp += 1
        if self.stamp == 0:  # wrapped: forget every old mark
            for i in range(self.mark.size()):
                self.mark[i] = 0
            self.stamp = 1

    cdef void _start(self, int32_t user) noexcept:
        self._new_stamp()
        self.queue.clear()
        self.ends.clear()
        self.queue.push_back(user)
        self.mark[user] = self.stamp
        self.ends.push_back(1)

    cdef int _grow(self, int radius, int64_t budget) noexcept:
        """Extend the marked ball layer by layer up to ``radius``; returns the radius reached.

        With ``budget`` >= 0, stop before a layer whose upper bound (ball size
        plus the rim's degree sum) passes it. Stops early when the graph ends.
        """
        cdef int r = self.ends.size() - 1
        cdef size_t start, stop, i, j
        cdef int64_t bound
        cdef int32_t y
        cdef uint32_t stamp = self.stamp
        cdef vector[int32_t] *row
        while r < radius:
            start = 0 if r == 0 else self.ends[r - 1]
            stop = self.ends[r]
            if start == stop:
                return r  # the previous layer was empty: nothing further
            if budget >= 0:
                bound = stop
                for i in range(start, stop):
                    bound += self.adj[self.queue[i]].size()
                if bound > budget:
                    return r
            for i in range(start, stop):
                row = &self.adj[self.queue[i]]
                for j in range(row.size()):
                    y = row[0][j]
                    if self.mark[y] != stamp:
                        self.mark[y] = stamp
                        self.queue.push_back(y)
            self.ends.push_back(self.queue.size())
            r += 1
        return r

    cdef bint _closed(self) noexcept:
        """True when the last layer is empty: the marked ball is the whole component."""
        cdef size_t n = self.ends.size()
        return n >= 2 and self.ends[n - 1] == self.ends[n - 2]

    def rings(self, int32_t user, int radius):
        """The users at exactly 1, 2, ... ``radius`` hops (fewer if the graph ends)."""
        self._known(user)
        self._start(user)
        self._grow(radius, -1)
        out = []
        cdef size_t r
        for r in range(1, self.ends.size()):
            if self.ends[r] == self.ends[r - 1]:
                break
            out.append([self.queue[i] for i in range(self.ends[r - 1], self.ends[r])])
        return out

    # -- the check ----------------------------------------------------------------

    def check(self, int32_t user, int strategy):
        """The buyer's baseline sums: ``(n, S1, S2, path)`` with ``path`` in ``PATHS``.

        ``strategy`` indexes ``STRATEGIES``; every one gives the same sums.
        """
        self._known(user)
        cdef int D = self.D, T = self.T
        cdef int far = D - min(D - D // 2, NEAR_LIMIT)
        cdef int reached
        cdef int64_t budget = -1
        self._start(user)
        reached = self._grow(D - far, -1)
        if strategy != WALK:
            if strategy == AUTO:
                budget = <int64_t>sqrt(<double>T * self.adj.size()) + 64
            reached = self._grow(D, budget)
        cdef nf_u128 s1 = 0, s2 = 0
        cdef int64_t n = 0
        cdef int path
        if reached >= D or self._closed():
            path = self._complete(user, strategy, &n, &s1, &s2)
        else:  # meet in the middle: dist(u, v) <= D iff ball(v, D - reached) meets the ball
            path = WALK
            self._scan(user, D - reached, &n, &s1, &s2)
        return (n, (<object>nf_hi(s1) << 64) | nf_lo(s1),
                (<object>nf_hi(s2) << 64) | nf_lo(s2), PATHS[path - 1])

    cdef int _complete(self, int32_t user, int strategy, int64_t *n, nf_u128 *s1,
                       nf_u128 *s2) noexcept:
        """The whole network is marked: merge its members' tails, or scan the index."""
        cdef size_t members = self.queue.size() - 1, i, entries = 0
        cdef double scan_cost, merge_cost, total
        if strategy == AUTO:
            for i in range(1, self.queue.size()):
                entries += self.tails[self.queue[i]].size()
            if entries == 0:
                return MERGE
            total = <double>(self.index.size() + self.side.size() - self.dead)
            scan_cost = self.T * total / entries
            merge_cost = 4.0 * members + 8.0 * self.T
            strategy = SCAN if scan_cost < merge_cost else MERGE
        if strategy == SCAN or strategy == WALK:  # a walk over a complete ball is a scan
            self._scan(user, 0, n, s1, s2)
            return strategy
        self._merge(n, s1, s2)
        return MERGE

    cdef void _merge(self, int64_t *n, nf_u128 *s1, nf_u128 *s2) noexcept:
        """The baseline sums over the T newest purchases of the members (queue[1:])."""
        self._newest(self.T)
        cdef nf_entry e
        for e in self.picked:
            n[0] += 1
            s1[0] += <nf_u128>e.units
            s2[0] += nf_square(e.units)

    cdef void _newest(self, size_t count) noexcept:
        """``picked`` = the ``count`` newest purchases of the members (queue[1:]), newest
        first. Only members whose newest is among the ``count`` newest such can
        contribute, so select those (nth_element), then a heap merge of their tails."""
        cdef vector[nf_head] *heads = &self.heads
        cdef nf_head h
        cdef const vector[nf_entry] *tail
        cdef const nf_entry *e
        cdef size_t i
        heads.clear()
        self.picked.clear()
        for i in range(1, self.queue.size()):
            tail = &self.tails[self.queue[i]]
            if not tail.empty():
                h.ts, h.seq = tail.back().ts, tail.back().seq
                h.member, h.pos = self.queue[i], tail.size() - 1
                heads.push_back(h)
        nf_select(heads[0], count)
        nf_heap_make(heads[0])
        while not heads.empty() and self.picked.size() < count:
            nf_heap_pop(heads[0])
            h = heads.back()
            self.picked.push_back(self.tails[h.member][h.pos])
            if h.pos > 0:
                h.pos -= 1
                e = &self.tails[h.member][h.pos]
                h.ts, h.seq = e.ts, e.seq
                heads[0][heads.size() - 1] = h
                nf_heap_push(heads[0])
            else:
                heads.pop_back()

    cdef void _scan(self, int32_t user, int far, int64_t *n, nf_u128 *s1,
                    nf_u128 *s2) noexcept:
        """Newest purchases first, keeping those whose buyer is within ``far`` hops of
        the marked ball (0: in it). The index and the side array merge on the fly."""
        cdef Py_ssize_t i = self.index.size() - 1, j = self.side.size() - 1
        cdef const nf_entry *e
        cdef int64_t T = self.T
        cdef uint32_t stamp = self.stamp
        cdef int32_t v
        while (i >= 0 or j >= 0) and n[0] < T:
            if j < 0 or (i >= 0 and nf_less(self.side[j], self.index[i])):
                e = &self.index[i]
                i -= 1
            else:
                e = &self.side[j]
                j -= 1
            v = e.owner
            if v == user or not self._live(e):
                continue
            if self.mark[v] == stamp or (far > 0 and self._near(v, far, stamp)):
                n[0] += 1
                s1[0] += <nf_u128>e.units
                s2[0] += nf_square(e.units)

    cdef bint _near(self, int32_t v, int far, uint32_t stamp) noexcept:
        """Whether ball(v, far) meets the marked ball (far >= 1): the nearest first."""
        if far > 2:
            return self._reach(v, far, stamp)
        cdef const vector[int32_t] *row = &self.adj[v]
        cdef const vector[int32_t] *next_row
        cdef size_t i, j
        for i in range(row.size()):
            if self.mark[row[0][i]] == stamp:
                return True
        if far < 2:
            return False
        for i in range(row.size()):
            next_row = &self.adj[row[0][i]]
            for j in range(next_row.size()):
                if self.mark[next_row[0][j]] == stamp:
                    return True
        return False

    cdef bint _reach(self, int32_t v, int far, uint32_t stamp) noexcept:
        """A breadth-first search from v, at most ``far`` hops, until it meets the marked ball."""
        cdef size_t start = 0, stop, i, j
        self.seen_stamp += 1
        if self.seen_stamp == 0:
            for i in range(self.seen.size()):
                self.seen[i] = 0
            self.seen_stamp = 1
        cdef uint32_t own = self.seen_stamp
        cdef vector[int32_t] *queue = &self.reach_queue
        cdef int r
        cdef int32_t y
        cdef const vector[int32_t] *row
        if self.seen.size() < self.adj.size():
            self.seen.resize(self.adj.size(), 0)
        queue.clear()
        queue.push_back(v)
        self.seen[v] = own
        for r in range(far):
            stop = queue.size()
            for i in range(start, stop):
                row = &self.adj[queue[0][i]]
                for j in range(row.size()):
                    y = row[0][j]
                    if self.mark[y] == stamp:
                        return True
                    if self.seen[y] != own:
                        self.seen[y] = own
                        queue.push_back(y)
            if queue.size() == stop:
                return False
            start = stop
        return False

    # -- bulk state ------------------------------------------------------------

    def newest_of(self, members, Py_ssize_t count):
        """The ``count`` newest purchases of ``members`` as ``(ts, seq, owner, units)``, newest first."""
        self._new_stamp()
        self.queue.clear()
        self.queue.push_back(-1)  # _newest reads members from queue[1:]
        cdef int32_t m
        for member in members:
            m = member
            self._known(m)
            if self.mark[m] != self.stamp:
                self.mark[m] = self.stamp
                self.queue.push_back(m)
        self._newest(count)
        cdef nf_entry e
        return [(e.ts, e.seq, e.owner, e.units) for e in self.picked]

    def load(self, list user_ids, const int32_t[:] lo, const int32_t[:] hi,
             const int64_t[:] ts, const int64_t[:] seq, const int32_t[:] owner,
             const int64_t[:] units):
        """Fill an empty core: user ids by number; edges ``lo < hi``; purchases sorted by
        key, at most T per user. Any inconsistency is a ValueError, never a broken core."""
        if not self.index.empty() or self.adj.size():
            raise ValueError("load() needs an empty core")
        cdef Py_ssize_t users = len(user_ids), n = ts.shape[0], i
        for i in range(users):
            name = user_ids[i]
            key = name.encode("utf-8", "surrogatepass")
            if self._intern(key, len(key)) != i:
                raise ValueError(f"user id {name!r} repeats")
        if lo.shape[0] != hi.shape[0]:
            raise ValueError("edge columns differ in length")
        if seq.shape[0] != n or owner.shape[0] != n or units.shape[0] != n:
            raise ValueError("purchase columns differ in length")
        cdef vector[int32_t] degree
        degree.resize(users, 0)
        cdef int32_t a, b
        for i in range(lo.shape[0]):
            a, b = lo[i], hi[i]
            if a < 0 or b >= users or a >= b:
                raise ValueError("an edge names an unknown user or is not (lo < hi)")
            if i and (a < lo[i - 1] or a == lo[i - 1] and b <= hi[i - 1]):
                raise ValueError("edges are not sorted, or one repeats")
            degree[a] += 1
            degree[b] += 1
        for i in range(users):
            self.adj[i].reserve(degree[i])
        for i in range(lo.shape[0]):
            self.adj[lo[i]].push_back(hi[i])
            self.adj[hi[i]].push_back(lo[i])
        cdef nf_entry e
        cdef vector[int32_t] kept
        kept.resize(users, 0)
        for i in range(n):  # each tail's size first: one allocation per user, not several
            if 0 <= owner[i] < users:
                kept[owner[i]] += 1
        for i in range(users):
            self.tails[i].reserve(min(kept[i], self.T))
        self.index.reserve(n)
        for i in range(n):
            e.ts, e.seq, e.units, e.owner = ts[i], seq[i], units[i], owner[i]
            if e.owner < 0 or e.owner >= users or e.units < 0 or e.ts < 0 or e.seq < 0:
                raise ValueError("a purchase names an unknown user or holds a negative value")
            if e.units >= _UNITS_LIMIT:
                raise OverflowError("an amount is too large for the compiled core")
            if i and not nf_less(self.index.back(), e):
                raise ValueError("purchases are not sorted by key")
            if <int>self.tails[e.owner].size() >= self.T:
                raise ValueError("a user has more than T purchases")
            self.tails[e.owner].push_back(e)
            self.index.push_back(e)
            if e.units > self.max_units:
                self.max_units = e.units
        for i in range(users):
            if <int>self.tails[i].size() == self.T:
                self.floor_ts[i] = self.tails[i][0].ts
                self.floor_seq[i] = self.tails[i][0].seq

    def export(self):
        """The state as columns (``array``): edges ``(lo, hi)`` sorted, purchases by key."""
        self._compact()
        cdef size_t edges = self.edges(), kept = self.index.size()
        lo, hi = array.clone(_INT32, edges, False), array.clone(_INT32, edges, False)
        ts, seq = array.clone(_INT64, kept, False), array.clone(_INT64, kept, False)
        owner, units = array.clone(_INT32, kept, False), array.clone(_INT64, kept, False)
        cdef int32_t[:] l = lo, h = hi, o = owner
        cdef int64_t[:] t = ts, s = seq, u = units
        cdef vector[int32_t] row
        cdef size_t v, j, k = 0
        cdef const nf_entry *e
        for v in range(self.adj.size()):
            row.clear()
            for j in range(self.adj[v].size()):
                if self.adj[v][j] > <int32_t>v:
                    row.push_back(self.adj[v][j])
            sort(row.begin(), row.end())
            for j in range(row.size()):
                l[k], h[k] = v, row[j]
                k += 1
        for j in range(kept):
            e = &self.index[j]
            t[j], s[j], o[j], u[j] = e.ts, e.seq, e.owner, e.units
        return lo, hi, ts, seq, owner, units


    # -- the canonical-line fast path -------------------------------------------

    def feed(self, const unsigned char[:] data, Py_ssize_t pos, Py_ssize_t end,
             Py_ssize_t line, int64_t seq, int scale, size_t max_id, size_t max_line):
        """Apply the event lines of ``data`` from ``pos`` while they have the canonical shape.

        The canonical shape is the one the challenge and ``netflag generate`` write
        (``netflag.io.bulk.CANONICAL``, whose ids may also be non-ASCII): fixed key
        order and spacing, printable ASCII ids without quote or backslash, amounts of 1-12 digits and up to 3 decimals, a real date
        and time. Such a line cannot mean anything but the event read here. Blank
        lines are skipped. Stops at the first other line, at one needing a finer
        scale than ``scale`` or a self-friendship (the caller handles those, so
        rejects and their reasons stay in one place), or once past ``end``.

        Ids over ``max_id`` bytes and lines over ``max_line`` (blank ones too) are
        left to the caller, whose limits reject them (``netflag.io.limits``).

        Returns ``(pos, line, seq)``: where it stopped, the number of the last line
        consumed, and the next arrival number.
        """
        if pos < 0 or not 0 <= scale <= 18:
            raise ValueError("feed() needs pos >= 0 and a scale of 0 to 18")
        cdef Py_ssize_t n = data.shape[0]
        if n == 0 or pos >= n:
            return pos, line, seq
        cdef const unsigned char *base = &data[0]
        cdef const unsigned char *p
        cdef const unsigned char *stop
        cdef const unsigned char *nl
        cdef Py_ssize_t at = pos
        cdef int kind, amount_scale
        cdef int64_t ts, units
        cdef const unsigned char *id1
        cdef const unsigned char *id2
        cdef size_t size1 = 0, size2 = 0
        cdef int32_t a, b
        cdef int64_t factor
        cdef Py_ssize_t after
        while at < n and at < end:
            nl = <const unsigned char *>memchr(base + at, 10, n - at)
            stop = base + n if nl == NULL else nl
            after = n if nl == NULL else (nl - base) + 1
            p = base + at
            if <size_t>(stop - p) <= max_line and _blank(p, stop):
                at = after
                line += 1
                continue
            if stop > p and stop[-1] == 13:
                stop -= 1
            kind = _canonical(p, stop, &ts, &id1, &size1, &id2, &size2, &units, &amount_scale,
                              max_id)
            if kind == 0 or amount_scale > scale:
                break
            if kind == 1:
                factor = _POW10[scale - amount_scale]
                if units >= _UNITS_LIMIT // factor:
                    break
                self._purchase(self._intern(<const char *>id1, size1), ts, seq, units * factor)
            else:
                if size1 == size2 and memcmp(id1, id2, size1) == 0:
                    break
                a = self._intern(<const char *>id1, size1)
                b = self._intern(<const char *>id2, size2)
                if kind == 2:
                    if not self._linked(a, b):
                        self.adj[a].push_back(b)
                        self.adj[b].push_back(a)
                elif self._linked(a, b):
                    self._drop(a, b)
                    self._drop(b, a)
            seq += 1
            line += 1
            at = after
        return at, line, seq

    cdef void _purchase(self, int32_t user, int64_t ts, int64_t seq, int64_t units) noexcept:
        cdef nf_entry e
        e.ts, e.seq, e.units, e.owner = ts, seq, units, user
        self._add(e)

    def edges(self):
        """How many friendships there are."""
        cdef size_t total = 0, v
        for v in range(self.adj.size()):
            total += self.adj[v].size()
        return total // 2
