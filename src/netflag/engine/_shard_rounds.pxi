# A check's kernels on a compiled shard: the BFS rounds, the gather, the decide, and the
# messages' arrays. Included by _shard.pyx: C functions over Shard's state.

cdef const vector[int64_t] *_friends_at(Shard shard, int32_t user, int64_t seq,
                                        vector[int64_t] *scratch) noexcept:
    """The user's friends as of arrival ``seq``: the base, or ``scratch`` with the
    delta's writes before ``seq`` applied to a copy of it."""
    if shard.link_at[user] < 0:
        return &shard.adj[user]
    scratch[0] = shard.adj[user]
    cdef vector[nf_link] *writes = &shard.links[shard.link_at[user]]
    cdef size_t i
    for i in range(writes.size()):
        if writes[0][i].seq >= seq:
            break
        nf_relink(scratch[0], writes[0][i].friend_key, writes[0][i].added)
    return scratch


cdef void _newest_at(Shard shard, const vector[int32_t] &members, int64_t seq,
                     vector[nf_bought] &top) noexcept:
    """The T newest purchases of ``members`` as of arrival ``seq`` into ``top``. A walk of
    the recency index expects to look at T·users/m entries for m members, a merge of their
    tails at m: the walk goes first when m² > T·users, and gives way to the merge if its
    budget runs out."""
    cdef size_t m = members.size()
    if m * m > <size_t>shard.T * shard.keys_.size() and _walk_newest(shard, members, seq, top):
        return
    _merge_newest(shard, members, seq, top)


cdef bint _walk_newest(Shard shard, const vector[int32_t] &members, int64_t seq,
                       vector[nf_bought] &top) noexcept:
    """The base's newest purchases of the marked members, newest first, then the delta's
    before ``seq``; False when the walk's budget (4 entries a member) ran out first."""
    cdef size_t T = shard.T, i, looked = 0
    cdef int32_t user
    shard.mark.resize(shard.keys_.size())
    for i in range(members.size()):
        shard.mark.add(members[i])
    shard.picked.clear()
    cdef bint complete = nf_walk_marked(
        shard.recency, shard.mark, T, 4 * members.size() + 64, shard.picked, &looked
    )
    shard.keys_read += looked
    if complete:
        top.clear()
        for i in range(shard.picked.size()):
            nf_offer(top, T, nf_bought(shard.picked[i].ts, shard.picked[i].seq,
                                       shard.picked[i].units))
        if shard.buyers_in.size() < members.size():  # the fewer: buyers this epoch, or members
            for i in range(shard.buyers_in.size()):
                user = shard.buyers_in[i]
                if shard.mark.has(user):
                    _offer_delta(shard, user, seq, top)
        else:
            for i in range(members.size()):
                _offer_delta(shard, members[i], seq, top)
    shard.mark.clear()
    return complete


cdef void _merge_newest(Shard shard, const vector[int32_t] &members, int64_t seq,
                        vector[nf_bought] &top) noexcept:
    """Each member's tail newest first until it offers nothing newer (its newest, in
    ``latest``, says so without opening the tail), then its delta's before ``seq``."""
    top.clear()
    cdef size_t T = shard.T, i, j
    cdef int32_t m
    cdef vector[nf_bought] *tail
    for i in range(members.size()):
        m = members[i]
        shard.keys_read += 1
        if top.size() < T or nf_older(top.front(), shard.latest[m]):  # else nothing newer
            tail = &shard.tails[m]
            j = tail.size()
            while j > 0 and nf_offer(top, T, tail[0][j - 1]):
                shard.keys_read += 1
                j -= 1
        _offer_delta(shard, m, seq, top)


cdef inline void _offer_delta(Shard shard, int32_t user, int64_t seq,
                              vector[nf_bought] &top) noexcept:
    """Offer ``top`` the user's purchases of this epoch numbered before ``seq``."""
    if shard.buy_at[user] < 0:
        return
    cdef vector[nf_bought] *bought = &shard.bought[shard.buy_at[user]]
    cdef size_t j
    for j in range(bought.size()):
        if bought[0][j].seq < seq:
            shard.keys_read += 1
            nf_offer(top, shard.T, bought[0][j])


cdef list _begin(Shard shard, const int64_t[:, :] checks):
    cdef Py_ssize_t C = checks.shape[1], c
    cdef int32_t user
    shard.frontier.resize(C)
    shard.members.resize(C)
    shard.arrived.resize(C)
    shard.sent.resize(C)
    for c in range(C):
        shard.seqs.push_back(checks[0, c])
        shard.buyers.push_back(checks[1, c])
        user = -1
        if checks[1, c] % shard.count == shard.index:
            user = shard._number(checks[1, c])  # the purchase's own write interned it
            shard.frontier[c].push_back(user)
        shard.home.push_back(user)
    return _round(shard, True)


cdef list _step(Shard shard, inboxes):
    _arrive(shard, inboxes)
    return _round(shard, True)


cdef void _arrive(Shard shard, inboxes) except *:
    """Sort the ids that arrived by check (a round then takes them check by check)."""
    cdef const int64_t[:, :] box
    cdef Py_ssize_t i
    for each in inboxes:
        box = each
        shard.ids_received += box.shape[1]
        for i in range(box.shape[1]):
            shard.arrived[box[0, i]].push_back(box[1, i])


cdef list _round(Shard shard, bint expand):
    """For each check: mark the ids that arrived (new ones join its members and
    frontier), then, if ``expand``, expand the frontier one hop: mark the friends owned
    here, send the others not sent before. Returns the messages, one per shard."""
    cdef int count = shard.count, index = shard.index, dest
    cdef size_t C = shard.frontier.size(), c, i, j, sent = 0
    cdef vector[vector[int64_t]] out = vector[vector[int64_t]](count)
    cdef vector[int32_t] grown
    cdef vector[char] to = vector[char](count)
    cdef vector[int64_t] scratch
    cdef const vector[int64_t] *friends
    cdef int64_t friend, seq
    cdef int32_t number
    shard.mark.resize(shard.keys_.size())
    for c in range(C):
        if shard.frontier[c].empty() and shard.arrived[c].empty():
            continue
        if shard.home[c] >= 0:
            shard.mark.add(shard.home[c])
        for i in range(shard.members[c].size()):
            shard.mark.add(shard.members[c][i])
        for i in range(shard.arrived[c].size()):
            number = shard._number(shard.arrived[c][i])  # interned with the friendship
            if shard.mark.add(number):
                if expand:  # round D's arrivals (the gather's) only join the members
                    shard.frontier[c].push_back(number)
                shard.members[c].push_back(number)
        shard.arrived[c].clear()
        if expand:
            for i in range(shard.sent[c].size()):
                shard.sending.add(shard.sent[c][i])
            seq = shard.seqs[c]
            grown.clear()
            for i in range(shard.frontier[c].size()):
                friends = _friends_at(shard, shard.frontier[c][i], seq, &scratch)
                shard.entries_read += friends.size()
                for j in range(friends.size()):
                    friend = friends[0][j]
                    dest = shard.owner.of(friend)
                    if dest == index:
                        number = shard.local.find(friend)
                        if shard.mark.add(number):
                            grown.push_back(number)
                            shard.members[c].push_back(number)
                    elif shard.sending.add(friend):
                        shard.sent[c].push_back(friend)
                        out[dest].push_back(c)
                        out[dest].push_back(friend)
                        to[dest] = 1
            shard.frontier[c].swap(grown)
            shard.sending.clear()
            for dest in range(count):
                shard.messages += to[dest]
                to[dest] = 0
        shard.mark.clear()
    for dest in range(count):
        sent += out[dest].size() // 2
    shard.ids_sent += sent
    return [_box(out[dest], 2) for dest in range(count)]


cdef list _gather(Shard shard, inboxes):
    _arrive(shard, inboxes)
    _round(shard, False)
    cdef int count = shard.count, home
    cdef size_t c, i
    cdef vector[vector[int64_t]] out = vector[vector[int64_t]](count)
    cdef vector[nf_bought] top
    for c in range(shard.members.size()):
        if shard.members[c].empty():
            continue
        _newest_at(shard, shard.members[c], shard.seqs[c], top)
        if top.empty():
            continue
        home = shard.buyers[c] % count
        for i in range(top.size()):
            out[home].push_back(c)
            out[home].push_back(top[i].ts)
            out[home].push_back(top[i].seq)
            out[home].push_back(top[i].units)
        if home != shard.index:
            shard.messages += 1
            shard.entries_sent += top.size()
    return [_box(out[home], 4) for home in range(count)]


cdef list _decide(Shard shard, inboxes):
    if any(box.dtype != np.int64 for box in inboxes):
        sums = sums_of(inboxes, shard.T)
        shard.end_epoch()
        return sums
    cdef vector[vector[nf_bought]] found = vector[vector[nf_bought]](shard.seqs.size())
    cdef const int64_t[:, :] box
    cdef nf_bought e
    cdef Py_ssize_t i
    for each in inboxes:
        box = each
        for i in range(box.shape[1]):
            e.ts, e.seq, e.units = box[1, i], box[2, i], box[3, i]
            found[box[0, i]].push_back(e)
    sums = []
    cdef size_t c, n, T = shard.T
    cdef nf_u128 s1, s2
    for c in range(found.size()):
        n = found[c].size()
        if n > T:  # the T newest in front
            nth_element(found[c].begin(), found[c].begin() + T, found[c].end(), _newer)
            n = T
        if n < 2:
            continue
        s1, s2 = 0, 0
        for i in range(<Py_ssize_t>n):
            s1 += <uint64_t>found[c][i].units
            s2 += nf_square(found[c][i].units)
        sums.append((c, n, _int(s1), _int(s2)))
    shard.end_epoch()
    return sums


cdef object _box(vector[int64_t] &flat, int width):
    """Rows laid out flat, ``width`` values a row, as the ``(width, n)`` int64 message."""
    cdef Py_ssize_t n = flat.size() // width, i, r
    box = np.empty((width, n), dtype=np.int64)
    cdef int64_t[:, ::1] view = box
    for i in range(n):
        for r in range(width):
            view[r, i] = flat[i * width + r]
    return box


cdef bint _newer(const nf_bought &a, const nf_bought &b) noexcept nogil:
    return nf_older(b, a)


cdef object _int(nf_u128 x):
    return (int(nf_hi(x)) << 64) | int(nf_lo(x))


def owner_of(uint64_t key, uint64_t count):
    """``key % count`` as a round computes it (the tests compare the two)."""
    cdef nf_modulo modulo
    modulo.set(count)
    return modulo.of(key)
