# The state as columns: Core.load fills an empty core from them (a snapshot restore, the
# columnar batch loader), Core.export hands them back (a snapshot, the move to the
# Python core); pycore.Core.load and .export are the twins. Included by _core.pyx: C
# functions over Core's state.

cdef array.array _INT32 = _array.array('i')
cdef array.array _INT64 = _array.array('q')


cdef void _load(Core core, list user_ids, const int32_t[:] lo, const int32_t[:] hi,
                const int64_t[:] ts, const int64_t[:] seq, const int32_t[:] owner,
                const int64_t[:] units, int64_t below) except *:
    """Core.load: every column checked as it is copied in; one allocation per vector."""
    if not core.recency.index.empty() or core.graph.users():
        raise ValueError("load() needs an empty core")
    cdef Py_ssize_t users = len(user_ids), n = ts.shape[0], i
    for i in range(users):
        name = user_ids[i]
        key = name.encode("utf-8", "surrogatepass")
        if core._intern(key, len(key)) != i:
            raise ValueError(f"user id {name!r} repeats")
    if lo.shape[0] != hi.shape[0]:
        raise ValueError("edge columns differ in length")
    if seq.shape[0] != n or owner.shape[0] != n or units.shape[0] != n:
        raise ValueError("purchase columns differ in length")
    cdef vector[uint32_t] degree
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
    core.graph.reserve(degree)
    for i in range(lo.shape[0]):
        core.graph.link(lo[i], hi[i])
        core.graph.link(hi[i], lo[i])
    cdef nf_entry e
    cdef vector[int32_t] kept
    kept.resize(users, 0)
    for i in range(n):  # each tail's size first: one allocation per user, not several
        if 0 <= owner[i] < users:
            kept[owner[i]] += 1
    for i in range(users):
        core.tails[i].reserve(min(kept[i], core.T))
    core.recency.index.reserve(n + n // 4 + 1024)  # the stream's first purchases: no copy of it all
    for i in range(n):
        e.ts, e.seq, e.units, e.owner, e.gone = ts[i], seq[i], units[i], owner[i], 0
        if e.owner < 0 or e.owner >= users or e.units < 0 or e.ts < 0 or e.seq < 0:
            raise ValueError("a purchase names an unknown user or holds a negative value")
        if e.units >= _UNITS_LIMIT:
            raise OverflowError("an amount is too large for the compiled core")
        if e.seq >= below:
            raise ValueError("a purchase is numbered at or past the state's next number")
        if i and not nf_less(core.recency.index.back(), e):
            raise ValueError("purchases are not sorted by key")
        if <int>core.tails[e.owner].size() >= core.T:
            raise ValueError("a user has more than T purchases")
        core.tails[e.owner].push_back(e)
        core.recency.index.push_back(e)
        if e.units > core.max_units:
            core.max_units = e.units


cdef tuple _export(Core core):
    """Core.export: the index compacted first, so it holds exactly the kept purchases."""
    core.recency.compact()
    cdef size_t edges = core.edges(), kept = core.recency.index.size()
    lo, hi = array.clone(_INT32, edges, False), array.clone(_INT32, edges, False)
    ts, seq = array.clone(_INT64, kept, False), array.clone(_INT64, kept, False)
    owner, units = array.clone(_INT32, kept, False), array.clone(_INT64, kept, False)
    cdef int32_t[:] l = lo, h = hi, o = owner
    cdef int64_t[:] t = ts, s = seq, u = units
    cdef vector[int32_t] row
    cdef size_t v, j, k = 0
    cdef const nf_entry *e
    cdef const int32_t *friends
    for v in range(core.graph.users()):
        row.clear()
        friends = core.graph.row(v)
        for j in range(core.graph.degree(v)):
            if friends[j] > <int32_t>v:
                row.push_back(friends[j])
        sort(row.begin(), row.end())
        for j in range(row.size()):
            l[k], h[k] = v, row[j]
            k += 1
    for j in range(kept):
        e = &core.recency.index[j]
        t[j], s[j], o[j], u[j] = e.ts, e.seq, e.owner, e.units
    return lo, hi, ts, seq, owner, units
