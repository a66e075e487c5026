# The network search and the baseline: the compiled twin of search.py. Included by
# _core.pyx: C functions over Core's state, behind Core.check, Core.rings, Core.newest_of.
#
# A check marks ball(buyer, r) breadth-first in ``mark`` (bits, cleared when the next
# search starts), ``queue`` in BFS order with ``ends`` per radius: r is
# min(ceil(D/2), NEAR_LIMIT) always, further while the next layer's upper bound stays
# under GROW * sqrt(T * users) + 64 (strategy auto). Then, all in key order, newest first:
#
# * merge (the whole network is marked and listed, and small): the T newest offers of its
#   members' tails (nth_element), a heap merge of those tails;
# * scan (the whole network is marked; its last layer, past LIST * sqrt(T * users) + 64,
#   as bits alone): the index newest first, keeping entries whose owner is marked, until T;
# * walk (the ball stopped at r < D): meet in the middle, the index newest first,
#   keeping the entries whose owner v has ball(v, D - r) meeting the marked ball.
#
# Each keeps exactly the purchases of network members, so each gives the same T amounts.

# The buyer's side of a walk is marked to at most this radius (the rest is searched
# from each candidate); tuned on generated graphs, see docs/benchmarks.md.
DEF NEAR_LIMIT = 2
# What a scan's step costs against a merge's per member (4) and per pick (8): a step reads
# the next entry and one bit of the ball, both cached, where a merge reads each member's
# tail from memory (1M users, before the spread below: 1.5x the checks a second against 1).
DEF SCAN_STEP = 0.25
# The cost model counts the members' purchases up to this many members, samples past it.
DEF SAMPLE = 256
# The ball grows past the buyer's side while its next layer's bound stays under
# GROW * sqrt(T * users) + 64 (else the check walks), and lists its last layer (so that a
# merge may take it) only under LIST * sqrt(T * users) + 64: past that it spreads it as
# bits and scans. Tuned on the bench's workloads (docs/benchmarks.md): marking a friend
# costs a few cached operations, testing a walked entry a miss to memory.
DEF GROW = 4.0
DEF LIST = 0.1


cdef void _start(Core core, int32_t user) noexcept:
    """A new search: the marked ball is ball(user, 0)."""
    core._new_search()
    core.queue.clear()
    core.ends.clear()
    core.queue.push_back(user)
    core.mark.add(user)
    core.ends.push_back(1)


cdef int64_t _bound(Core core, int r) noexcept:
    """An upper bound of ball(user, r + 1) once ball(user, r) is marked: its size plus
    the rim's degree sum (one read of each rim user's friend list header)."""
    cdef size_t start = 0 if r == 0 else core.ends[r - 1], stop = core.ends[r], i
    cdef int64_t bound = stop
    for i in range(start, stop):
        bound += core.graph.degree(core.queue[i])
    return bound


cdef int _grow(Core core, int radius, int64_t budget) noexcept:
    """Extend the marked ball layer by layer up to ``radius``; returns the radius reached.

    With ``budget`` >= 0, stop before a layer whose upper bound (:func:`_bound`)
    passes it. Stops early when the graph ends.
    """
    cdef int r = core.ends.size() - 1
    cdef size_t start, stop
    cdef int64_t bound
    while r < radius:
        start = 0 if r == 0 else core.ends[r - 1]
        stop = core.ends[r]
        if start == stop:
            return r  # the previous layer was empty: nothing further
        bound = _bound(core, r)
        if budget >= 0 and bound > budget:
            return r
        nf_grow_layer(core.mark, core.queue, core.graph, start, stop, bound - stop)
        core.ends.push_back(core.queue.size())
        r += 1
    return r


cdef void _spread(Core core) noexcept:
    """Mark the ball's next layer as bits alone (no queue, no test): what a scan needs of
    the network's last layer, at a fraction of _grow's cost per friend."""
    cdef int r = core.ends.size() - 1
    nf_spread_layer(core.mark, core.queue, core.graph, 0 if r == 0 else core.ends[r - 1],
                    core.ends[r])


cdef bint _closed(Core core) noexcept:
    """True when the last layer is empty: the marked ball is the whole component."""
    cdef size_t n = core.ends.size()
    return n >= 2 and core.ends[n - 1] == core.ends[n - 2]


cdef list _rings(Core core, int32_t user, int radius):
    """Core.rings: the ball's layers, marked breadth-first."""
    _start(core, user)
    _grow(core, radius, -1)
    out = []
    cdef size_t r
    for r in range(1, core.ends.size()):
        if core.ends[r] == core.ends[r - 1]:
            break
        out.append([core.queue[i] for i in range(core.ends[r - 1], core.ends[r])])
    return out


cdef tuple _check(Core core, int32_t user, int strategy):
    """Core.check: mark the buyer's ball, then merge, scan or walk (see the top of this file)."""
    cdef int D = core.D, T = core.T
    cdef int far = D - min(D - D // 2, NEAR_LIMIT)
    cdef int reached
    cdef double scale = sqrt(<double>T * core.graph.users())
    cdef int64_t budget = <int64_t>(GROW * scale) + 64 if strategy == AUTO else -1
    cdef int64_t listed = <int64_t>(LIST * scale) + 64
    cdef nf_u128 s1 = 0, s2 = 0
    cdef int64_t n = 0, bound
    cdef int path
    _start(core, user)
    reached = _grow(core, D - far, -1)
    if strategy != WALK and reached < D and not _closed(core):
        reached = _grow(core, D - 1, budget)
        if reached == D - 1 and not _closed(core):
            bound = _bound(core, reached)
            if budget < 0 or bound <= budget:
                if strategy == SCAN or strategy == AUTO and bound > listed:
                    _spread(core)  # too many members to merge: the scan needs bits alone
                    _scan(core, user, 0, &n, &s1, &s2)
                    return _sums(n, s1, s2, SCAN)
                reached = _grow(core, D, -1)
    if reached >= D or _closed(core):
        path = _complete(core, user, strategy, &n, &s1, &s2)
    else:  # meet in the middle: dist(u, v) <= D iff ball(v, D - reached) meets the ball
        path = WALK
        _scan(core, user, D - reached, &n, &s1, &s2)
    return _sums(n, s1, s2, path)


cdef tuple _sums(int64_t n, nf_u128 s1, nf_u128 s2, int path):
    """Core.check's answer: the sums as Python ints, and the path's name."""
    return (n, (<object>nf_hi(s1) << 64) | nf_lo(s1),
            (<object>nf_hi(s2) << 64) | nf_lo(s2), PATHS[path - 1])


cdef int _complete(Core core, int32_t user, int strategy, int64_t *n, nf_u128 *s1,
                   nf_u128 *s2) noexcept:
    """The whole network is marked: merge its members' tails, or scan the index."""
    cdef size_t members = core.queue.size() - 1
    cdef double scan_cost, merge_cost, total, entries
    if strategy == AUTO:
        entries = _entries(core, members)
        if entries == 0:
            return MERGE
        total = <double>core.recency.live()
        scan_cost = SCAN_STEP * core.T * total / entries
        merge_cost = 4.0 * members + 8.0 * core.T
        strategy = SCAN if scan_cost < merge_cost else MERGE
    if strategy == SCAN or strategy == WALK:  # a walk over a complete ball is a scan
        _scan(core, user, 0, n, s1, s2)
        return strategy
    _merge(core, n, s1, s2)
    return MERGE


cdef double _entries(Core core, size_t members) noexcept:
    """How many purchases the members (queue[1:]) keep: counted up to SAMPLE members,
    estimated from SAMPLE of them spread over the queue past that (each is a read of a
    tail from memory, as many as a merge would make); counted when the sample holds none."""
    cdef size_t i, step = 1 if members <= SAMPLE else members // SAMPLE, seen = 0, total = 0
    for i in range(1, members + 1, step):
        total += core.tails[core.queue[i]].size()
        seen += 1
    if step == 1 or total > 0:
        return <double>total * members / seen
    for i in range(1, members + 1):
        total += core.tails[core.queue[i]].size()
    return <double>total


cdef void _merge(Core core, int64_t *n, nf_u128 *s1, nf_u128 *s2) noexcept:
    """The baseline sums over the T newest purchases of the members (queue[1:])."""
    _newest(core, core.T)
    cdef nf_entry e
    for e in core.picked:
        n[0] += 1
        s1[0] += <nf_u128>e.units
        s2[0] += nf_square(e.units)


cdef void _newest(Core core, size_t count) noexcept:
    """``picked`` = the ``count`` newest purchases of the members (queue[1:]), newest
    first. Only members whose newest is among the ``count`` newest such can
    contribute, so select those (nth_element), then a heap merge of their tails."""
    cdef vector[nf_head] *heads = &core.heads
    cdef nf_head h
    cdef const vector[nf_entry] *tail
    cdef const nf_entry *e
    cdef size_t i
    heads.clear()
    core.picked.clear()
    for i in range(1, core.queue.size()):
        tail = &core.tails[core.queue[i]]
        if not tail.empty():
            h.ts, h.seq = tail.back().ts, tail.back().seq
            h.member, h.pos = core.queue[i], tail.size() - 1
            heads.push_back(h)
    nf_select(heads[0], count)
    nf_heap_make(heads[0])
    while not heads.empty() and core.picked.size() < count:
        nf_heap_pop(heads[0])
        h = heads.back()
        core.picked.push_back(core.tails[h.member][h.pos])
        if h.pos > 0:
            h.pos -= 1
            e = &core.tails[h.member][h.pos]
            h.ts, h.seq = e.ts, e.seq
            heads[0][heads.size() - 1] = h
            nf_heap_push(heads[0])
        else:
            heads.pop_back()


cdef list _newest_of(Core core, members, Py_ssize_t count):
    """Core.newest_of: ``members`` marked as a network, then ``_newest``."""
    core._new_search()
    core.queue.clear()
    core.queue.push_back(-1)  # _newest reads members from queue[1:]
    cdef int32_t m
    for member in members:
        m = member
        core._known(m)
        if core.mark.add(m):
            core.queue.push_back(m)
    _newest(core, count)
    cdef nf_entry e
    return [(e.ts, e.seq, e.owner, e.units) for e in core.picked]
