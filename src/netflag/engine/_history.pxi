# Each user's last T purchases and the recency index over all of them, kept as purchases
# arrive: the compiled twin of history.py. Included by _core.pyx: C functions over Core's
# state, called by Core.add, the batch fast path and the search.
#
# tails[v] is ascending by key, at most T long. The index (nf_recency, _core_support.h)
# holds every kept purchase ascending; late arrivals wait in a small sorted side array; a
# purchase evicted from its owner's tail stays in the index or the side array, marked
# ``gone`` (found by its key), until a compaction drops it: a walk of the index reads no
# owner to skip it.

cdef void _add(Core core, nf_entry e) noexcept:
    """Keep purchase ``e`` in its owner's tail (the oldest evicted past T) and the index."""
    cdef vector[nf_entry] *tail = &core.tails[e.owner]
    cdef size_t T = core.T, i
    if tail.size() == T and nf_less(e, tail[0][0]):
        return  # older than all of the user's last T: can never be in a baseline
    if e.units > core.max_units:
        core.max_units = e.units
    if tail.size() == T:  # evict the oldest: shift the older ones down, e into place
        core.recency.retire(tail[0][0])
        i = 0
        while i + 1 < T and nf_less(tail[0][i + 1], e):
            tail[0][i] = tail[0][i + 1]
            i += 1
        tail[0][i] = e
    else:
        if tail.size() == tail.capacity():  # grow by doubling from 8, never past T
            tail.reserve(min(T, max(<size_t>8, 2 * tail.size())))
        tail.push_back(e)
        i = tail.size() - 1
        while i > 0 and nf_less(e, tail[0][i - 1]):  # a late arrival: insertion step
            tail[0][i] = tail[0][i - 1]
            i -= 1
        tail[0][i] = e
    core.recency.add(e)
