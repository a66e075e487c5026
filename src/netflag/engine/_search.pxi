# The network search and the baseline: the compiled twin of search.py. Included by
# _core.pyx: C functions over Core's state, behind Core.check, Core.rings, Core.newest_of.
#
# A check marks ball(buyer, r) breadth-first in ``mark`` (a new search bumps ``stamp``
# instead of clearing), ``queue`` in BFS order with ``ends`` per radius: r is
# min(ceil(D/2), NEAR_LIMIT) always, further while the next layer's upper bound stays
# under sqrt(T * users) + 64 (strategy auto). Then, all in key order, newest first:
#
# * merge (the whole network is marked, and small): the T newest offers of its members'
#   tails (nth_element), a heap merge of those tails;
# * scan (the whole network is marked, holding a fair share of all purchases): the index
#   newest first, keeping entries whose owner is marked, until T;
# * walk (the ball stopped at r < D): meet in the middle, the index newest first,
#   keeping the entries whose owner v has ball(v, D - r) meeting the marked ball.
#
# Each keeps exactly the purchases of network members, so each gives the same T amounts.

# The buyer's side of a walk is marked to at most this radius (the rest is searched
# from each candidate); tuned on generated graphs, see docs/benchmarks.md.
DEF NEAR_LIMIT = 2


cdef void _start(Core core, int32_t user) noexcept:
    """A new search: the marked ball is ball(user, 0)."""
    core._new_stamp()
    core.queue.clear()
    core.ends.clear()
    core.queue.push_back(user)
    core.mark[user] = core.stamp
    core.ends.push_back(1)


cdef int _grow(Core core, int radius, int64_t budget) noexcept:
    """Extend the marked ball layer by layer up to ``radius``; returns the radius reached.

    With ``budget`` >= 0, stop before a layer whose upper bound (ball size
    plus the rim's degree sum) passes it. Stops early when the graph ends.
    """
    cdef int r = core.ends.size() - 1
    cdef size_t start, stop, i, j
    cdef int64_t bound
    cdef int32_t y
    cdef uint32_t stamp = core.stamp
    cdef vector[int32_t] *row
    while r < radius:
        start = 0 if r == 0 else core.ends[r - 1]
        stop = core.ends[r]
        if start == stop:
            return r  # the previous layer was empty: nothing further
        if budget >= 0:
            bound = stop
            for i in range(start, stop):
                bound += core.adj[core.queue[i]].size()
            if bound > budget:
                return r
        for i in range(start, stop):
            row = &core.adj[core.queue[i]]
            for j in range(row.size()):
                y = row[0][j]
                if core.mark[y] != stamp:
                    core.mark[y] = stamp
                    core.queue.push_back(y)
        core.ends.push_back(core.queue.size())
        r += 1
    return r


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
    cdef int64_t budget = -1
    _start(core, user)
    reached = _grow(core, D - far, -1)
    if strategy != WALK:
        if strategy == AUTO:
            budget = <int64_t>sqrt(<double>T * core.adj.size()) + 64
        reached = _grow(core, D, budget)
    cdef nf_u128 s1 = 0, s2 = 0
    cdef int64_t n = 0
    cdef int path
    if reached >= D or _closed(core):
        path = _complete(core, user, strategy, &n, &s1, &s2)
    else:  # meet in the middle: dist(u, v) <= D iff ball(v, D - reached) meets the ball
        path = WALK
        _scan(core, user, D - reached, &n, &s1, &s2)
    return (n, (<object>nf_hi(s1) << 64) | nf_lo(s1),
            (<object>nf_hi(s2) << 64) | nf_lo(s2), PATHS[path - 1])


cdef int _complete(Core core, int32_t user, int strategy, int64_t *n, nf_u128 *s1,
                   nf_u128 *s2) noexcept:
    """The whole network is marked: merge its members' tails, or scan the index."""
    cdef size_t members = core.queue.size() - 1, i, entries = 0
    cdef double scan_cost, merge_cost, total
    if strategy == AUTO:
        for i in range(1, core.queue.size()):
            entries += core.tails[core.queue[i]].size()
        if entries == 0:
            return MERGE
        total = <double>(core.index.size() + core.side.size() - core.dead)
        scan_cost = core.T * total / entries
        merge_cost = 4.0 * members + 8.0 * core.T
        strategy = SCAN if scan_cost < merge_cost else MERGE
    if strategy == SCAN or strategy == WALK:  # a walk over a complete ball is a scan
        _scan(core, user, 0, n, s1, s2)
        return strategy
    _merge(core, n, s1, s2)
    return MERGE


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


# _scan calls _near, and _near calls _reach, through these pointers, as they called them
# through Core's vtable when all three were methods: called directly, the C compiler inlines
# them into _scan's loop, and every step of a scan or a walk runs up to 20% slower.
cdef bint (*_near_out_of_line)(Core core, int32_t v, int far, uint32_t stamp) noexcept
cdef bint (*_reach_out_of_line)(Core core, int32_t v, int far, uint32_t stamp) noexcept
_near_out_of_line = _near
_reach_out_of_line = _reach


cdef void _scan(Core core, int32_t user, int far, int64_t *n, nf_u128 *s1,
                nf_u128 *s2) noexcept:
    """Newest purchases first, keeping those whose buyer is within ``far`` hops of
    the marked ball (0: in it). The index and the side array merge on the fly."""
    cdef Py_ssize_t i = core.index.size() - 1, j = core.side.size() - 1
    cdef const nf_entry *e
    cdef int64_t T = core.T
    cdef uint32_t stamp = core.stamp
    cdef int32_t v
    while (i >= 0 or j >= 0) and n[0] < T:
        if j < 0 or (i >= 0 and nf_less(core.side[j], core.index[i])):
            e = &core.index[i]
            i -= 1
        else:
            e = &core.side[j]
            j -= 1
        v = e.owner
        if v == user or not _live(core, e):
            continue
        if core.mark[v] == stamp or (far > 0 and _near_out_of_line(core, v, far, stamp)):
            n[0] += 1
            s1[0] += <nf_u128>e.units
            s2[0] += nf_square(e.units)


cdef bint _near(Core core, int32_t v, int far, uint32_t stamp) noexcept:
    """Whether ball(v, far) meets the marked ball (far >= 1): the nearest first."""
    if far > 2:
        return _reach_out_of_line(core, v, far, stamp)
    cdef const vector[int32_t] *row = &core.adj[v]
    cdef const vector[int32_t] *next_row
    cdef size_t i, j
    for i in range(row.size()):
        if core.mark[row[0][i]] == stamp:
            return True
    if far < 2:
        return False
    for i in range(row.size()):
        next_row = &core.adj[row[0][i]]
        for j in range(next_row.size()):
            if core.mark[next_row[0][j]] == stamp:
                return True
    return False


cdef bint _reach(Core core, int32_t v, int far, uint32_t stamp) noexcept:
    """A breadth-first search from v, at most ``far`` hops, until it meets the marked ball."""
    cdef size_t start = 0, stop, i, j
    core.seen_stamp += 1
    if core.seen_stamp == 0:
        for i in range(core.seen.size()):
            core.seen[i] = 0
        core.seen_stamp = 1
    cdef uint32_t own = core.seen_stamp
    cdef vector[int32_t] *queue = &core.reach_queue
    cdef int r
    cdef int32_t y
    cdef const vector[int32_t] *row
    if core.seen.size() < core.adj.size():
        core.seen.resize(core.adj.size(), 0)
    queue.clear()
    queue.push_back(v)
    core.seen[v] = own
    for r in range(far):
        stop = queue.size()
        for i in range(start, stop):
            row = &core.adj[queue[0][i]]
            for j in range(row.size()):
                y = row[0][j]
                if core.mark[y] == stamp:
                    return True
                if core.seen[y] != own:
                    core.seen[y] = own
                    queue.push_back(y)
        if queue.size() == stop:
            return False
        start = stop
    return False


cdef list _newest_of(Core core, members, Py_ssize_t count):
    """Core.newest_of: ``members`` marked as a network, then ``_newest``."""
    core._new_stamp()
    core.queue.clear()
    core.queue.push_back(-1)  # _newest reads members from queue[1:]
    cdef int32_t m
    for member in members:
        m = member
        core._known(m)
        if core.mark[m] != core.stamp:
            core.mark[m] = core.stamp
            core.queue.push_back(m)
    _newest(core, count)
    cdef nf_entry e
    return [(e.ts, e.seq, e.owner, e.units) for e in core.picked]
