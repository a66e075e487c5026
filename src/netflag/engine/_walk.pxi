# The index walks of a check: newest purchases first, kept while their buyer is in the
# network. Included by _core.pyx after _search.pxi (the marked ball, _check), which calls
# _scan; the compiled twin of the scan and walk of search.py.


# _scan calls _near, and _near calls _reach, through these pointers, as they called them
# through Core's vtable when all three were methods: called directly, the C compiler inlines
# them into _scan's loop, and every step of a scan or a walk runs up to 20% slower.
cdef bint (*_near_out_of_line)(Core core, int32_t v, int far) noexcept
cdef bint (*_reach_out_of_line)(Core core, int32_t v, int far) noexcept
_near_out_of_line = _near
_reach_out_of_line = _reach


cdef void _scan(Core core, int32_t user, int far, int64_t *n, nf_u128 *s1,
                nf_u128 *s2) noexcept:
    """Newest purchases first, keeping those whose buyer is within ``far`` hops of
    the marked ball (0: in it). The index and the side array merge on the fly."""
    if far == 0:
        nf_scan_marked(core.recency, core.mark, user, core.T, n, s1, s2)
        return
    cdef Py_ssize_t i = core.recency.index.size() - 1, j = core.recency.side.size() - 1
    cdef const nf_entry *e
    cdef int64_t T = core.T
    cdef int32_t v
    while (i >= 0 or j >= 0) and n[0] < T:
        if j < 0 or (i >= 0 and nf_less(core.recency.side[j], core.recency.index[i])):
            if i >= <Py_ssize_t>NF_AHEAD:  # what the test of an entry a few steps on reads
                nf_ask(core.graph, core.recency.index[i - NF_AHEAD].owner,
                       core.recency.index[i - NF_AHEAD // 2].owner)
            e = &core.recency.index[i]
            i -= 1
        else:
            e = &core.recency.side[j]
            j -= 1
        v = e.owner
        if e.gone or v == user:
            continue
        if core.mark.has(v) or _near_out_of_line(core, v, far):
            n[0] += 1
            s1[0] += <nf_u128>e.units
            s2[0] += nf_square(e.units)


cdef bint _near(Core core, int32_t v, int far) noexcept:
    """Whether ball(v, far) meets the marked ball (far >= 1): the nearest first."""
    if far > 2:
        return _reach_out_of_line(core, v, far)
    cdef const int32_t *row = core.graph.row(v)
    cdef const int32_t *next_row
    cdef size_t i, j, friends = core.graph.degree(v)
    for i in range(friends):
        if core.mark.has(row[i]):
            return True
    if far < 2:
        return False
    for i in range(friends):
        next_row = core.graph.row(row[i])
        for j in range(core.graph.degree(row[i])):
            if core.mark.has(next_row[j]):
                return True
    return False


cdef bint _reach(Core core, int32_t v, int far) noexcept:
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
    cdef const int32_t *row
    if core.seen.size() < core.graph.users():
        core.seen.resize(core.graph.users(), 0)
    queue.clear()
    queue.push_back(v)
    core.seen[v] = own
    for r in range(far):
        stop = queue.size()
        for i in range(start, stop):
            row = core.graph.row(queue[0][i])
            for j in range(core.graph.degree(queue[0][i])):
                y = row[j]
                if core.mark.has(y):
                    return True
                if core.seen[y] != own:
                    core.seen[y] = own
                    queue.push_back(y)
        if queue.size() == stop:
            return False
        start = stop
    return False
