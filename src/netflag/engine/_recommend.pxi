# Friend suggestions: the compiled twin of recommend.py. Included by _core.pyx: C
# functions over Core's state, behind Core.common and Core.recommend. Both mark with the
# search's bits; recommend counts each candidate's mutual friends in ``tally`` (reset to
# zeros after each call) and ranks with nf_top (_core_support.h): more mutual friends
# first, then id order.


cdef list _common(Core core, int32_t a, int32_t b):
    """Core.common: a's friends marked, b's friends tested."""
    core._new_search()
    cdef const int32_t *row = core.graph.row(a)
    cdef vector[int32_t] found
    cdef size_t i
    for i in range(core.graph.degree(a)):
        core.mark.add(row[i])
    row = core.graph.row(b)
    for i in range(core.graph.degree(b)):
        if core.mark.has(row[i]):
            found.push_back(row[i])
    nf_sort_ids(found, core.ids.names)
    return list(found)


cdef list _recommend(Core core, int32_t user, int limit):
    """Core.recommend: tally the friends of friends outside ball(user, 1), then rank."""
    if core.tally.size() < core.graph.users():
        core.tally.resize(core.graph.users(), 0)
    core._new_search()
    cdef const int32_t *row = core.graph.row(user)
    cdef const int32_t *far
    cdef vector[int32_t] touched, best
    cdef size_t i, j, friends = core.graph.degree(user)
    cdef int32_t c
    core.mark.add(user)
    for i in range(friends):
        core.mark.add(row[i])
    for i in range(friends):
        far = core.graph.row(row[i])
        for j in range(core.graph.degree(row[i])):
            c = far[j]
            if not core.mark.has(c):
                if core.tally[c] == 0:
                    touched.push_back(c)
                core.tally[c] += 1
    best = touched
    nf_top(best, <size_t>max(limit, 0), core.tally, core.ids.names)
    ranked = [(c, core.tally[c]) for c in best]
    for c in touched:
        core.tally[c] = 0
    return ranked
