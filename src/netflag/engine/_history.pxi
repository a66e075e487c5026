# Each user's last T purchases and the recency index over all of them, kept as purchases
# arrive: the compiled twin of history.py. Included by _core.pyx: C functions over Core's
# state, called by Core.add, the batch fast path and the search.
#
# tails[v] is ascending by key, at most T long. The index holds every kept purchase
# ascending; late arrivals wait in a small sorted side array; a purchase evicted from
# its owner's tail stays in the index or the side array, marked ``gone`` (found by its
# key), until a compaction drops it: a walk of the index reads no owner to skip it.

# The side array is merged in past max(SIDE_MIN, sqrt(index)) entries.
cdef size_t SIDE_MIN = 4096


cdef void _add(Core core, nf_entry e) noexcept:
    """Keep purchase ``e`` in its owner's tail (the oldest evicted past T) and the index."""
    cdef vector[nf_entry] *tail = &core.tails[e.owner]
    cdef size_t T = core.T, i
    if tail.size() == T and nf_less(e, tail[0][0]):
        return  # older than all of the user's last T: can never be in a baseline
    if e.units > core.max_units:
        core.max_units = e.units
    if tail.size() == T:  # evict the oldest: shift the older ones down, e into place
        if not nf_retire(core.index, tail[0][0]):
            nf_retire(core.side, tail[0][0])
        i = 0
        while i + 1 < T and nf_less(tail[0][i + 1], e):
            tail[0][i] = tail[0][i + 1]
            i += 1
        tail[0][i] = e
        core.dead += 1
    else:
        if tail.size() == tail.capacity():  # grow by doubling from 8, never past T
            tail.reserve(min(T, max(<size_t>8, 2 * tail.size())))
        tail.push_back(e)
        i = tail.size() - 1
        while i > 0 and nf_less(e, tail[0][i - 1]):  # a late arrival: insertion step
            tail[0][i] = tail[0][i - 1]
            i -= 1
        tail[0][i] = e
    if core.index.empty() or nf_less(core.index.back(), e):
        core.index.push_back(e)
    else:
        _insert_side(core, e)
    if core.dead > 1024 and core.dead * 2 > core.index.size() + core.side.size():
        _compact(core)


cdef void _insert_side(Core core, nf_entry e) noexcept:
    """A late arrival: into the side array, in order; a compaction once it is too long."""
    cdef vector[nf_entry] *side = &core.side
    side.push_back(e)
    cdef size_t i = side.size() - 1
    while i > 0 and nf_less(e, side[0][i - 1]):
        side[0][i] = side[0][i - 1]
        i -= 1
    side[0][i] = e
    cdef size_t limit = SIDE_MIN
    while limit * limit < core.index.size():
        limit *= 2
    if side.size() > limit:
        _compact(core)


cdef void _compact(Core core) noexcept:
    """Merge the side array into the index and drop evicted entries: one linear pass."""
    cdef vector[nf_entry] merged
    merged.reserve(core.index.size() + core.side.size() - core.dead)
    cdef size_t i = 0, j = 0, n = core.index.size(), m = core.side.size()
    cdef const nf_entry *e
    while i < n or j < m:
        if j >= m or (i < n and nf_less(core.index[i], core.side[j])):
            e = &core.index[i]
            i += 1
        else:
            e = &core.side[j]
            j += 1
        if not e.gone:
            merged.push_back(e[0])
    core.index.swap(merged)
    core.side.clear()
    core.dead = 0
