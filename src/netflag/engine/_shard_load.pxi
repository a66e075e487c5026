# A compiled shard's state in: its purchases kept, the batch's fast path (its own users'
# canonical lines), an epoch's writes as arrays, and its arrays for a snapshot, both ways.
# Included by _shard.pyx: C functions over Shard's state.

cdef inline nf_entry _entry(const nf_bought &e, int32_t owner) noexcept:
    """A kept purchase as the recency index holds it."""
    cdef nf_entry entry
    entry.ts, entry.seq, entry.units, entry.owner, entry.gone = e.ts, e.seq, e.units, owner, 0
    return entry


cdef inline void _keep(Shard shard, int32_t user, const nf_bought &e) noexcept:
    """Keep ``e`` in the user's tail (the twin's ``History.add`` rule) and the recency
    index, where the purchase it pushes out of the tail is marked gone."""
    cdef vector[nf_bought] *tail = &shard.tails[user]
    if tail.size() == <size_t>shard.T:
        if nf_older(e, tail.front()):
            return  # older than the user's last T: never in a baseline
        shard.recency.retire(_entry(tail.front(), user))
    nf_keep(tail[0], shard.T, e)
    shard.recency.add(_entry(e, user))
    shard.latest[user] = tail.back()


cdef void _link_later(Shard shard, int32_t user, int64_t seq, int64_t friend,
                      bint added) noexcept:
    """One side of a befriend or unfriend into the epoch's delta."""
    if shard.link_at[user] < 0:
        shard.link_at[user] = shard.links.size()
        shard.links.resize(shard.links.size() + 1)
        shard.linked.push_back(user)
    shard.links[shard.link_at[user]].push_back(nf_link(seq, friend, added))


cdef void _buy_later(Shard shard, int32_t user, const nf_bought &e) noexcept:
    """A purchase into the epoch's delta."""
    if shard.buy_at[user] < 0:
        shard.buy_at[user] = shard.bought.size()
        shard.bought.resize(shard.bought.size() + 1)
        shard.buyers_in.push_back(user)
    shard.bought[shard.buy_at[user]].push_back(e)


cdef _apply(Shard shard, rows, const unsigned char[:] names, const int64_t[:] ends):
    if rows.dtype != np.int64:
        raise OverflowError("amounts are too large for the compiled shard")
    cdef const int64_t[:, :] R = rows
    cdef Py_ssize_t n = R.shape[1], i, start = 0
    cdef int32_t user
    if R.shape[0] != 5 or ends.shape[0] != n or (n and ends[n - 1] != names.shape[0]):
        raise ValueError("writes: rows, names and ends differ in length")
    for i in range(n):
        user = -1
        if ends[i] > start:
            user = shard._intern(R[2, i], <const char *>&names[start], ends[i] - start)
        if user < 0:  # another id holds the key (or a name is empty): the one-line error
            name = bytes(names[start:ends[i]]).decode("utf-8", "surrogatepass")
            user = shard.intern(R[2, i], name)
        start = ends[i]
        if R[0, i] != 0:
            _link_later(shard, user, R[1, i], R[3, i], R[4, i] != 0)
        elif R[4, i] >= _UNITS_LIMIT or R[4, i] < 0:
            raise OverflowError("an amount is too large for the compiled shard")
        else:
            shard.max_units = max(shard.max_units, R[4, i])
            _buy_later(shard, user, nf_bought(R[3, i], R[1, i], R[4, i]))


cdef tuple _feed(Shard shard, const unsigned char[:] data, Py_ssize_t pos, Py_ssize_t end,
                 Py_ssize_t line, int64_t seq, int scale, size_t max_id, size_t max_line):
    if pos < 0 or not 0 <= scale <= 18:
        raise ValueError("feed() needs pos >= 0 and a scale of 0 to 18")
    cdef Py_ssize_t n = data.shape[0], at = pos, after
    if n == 0 or pos >= n:
        return pos, line, seq
    if shard.ids == NULL:
        shard.ids = new nf_names()
    cdef const unsigned char *base = &data[0]
    cdef const unsigned char *p
    cdef const unsigned char *stop
    cdef const unsigned char *nl
    cdef const unsigned char *id1 = NULL
    cdef const unsigned char *id2 = NULL
    cdef size_t size1 = 0, size2 = 0
    cdef int kind, amount_scale
    cdef int64_t ts, units, factor, key1, key2
    cdef int32_t user
    cdef nf_bought e
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
        key1 = _key(shard, id1, size1)
        if kind == 1:
            factor = _POW10[scale - amount_scale]
            if units >= _UNITS_LIMIT // factor:
                break
            if key1 % shard.count == shard.index:
                user = shard._intern(key1, <const char *>id1, size1)
                if user < 0:
                    break
                e.ts, e.seq, e.units = ts, seq, units * factor
                _keep(shard, user, e)
                shard.max_units = max(shard.max_units, e.units)
        else:
            if size1 == size2 and memcmp(id1, id2, size1) == 0:
                break
            key2 = _key(shard, id2, size2)
            if not _relink(shard, key1, id1, size1, key2, kind == 2):
                break
            if not _relink(shard, key2, id2, size2, key1, kind == 2):
                break
        seq += 1
        line += 1
        at = after
    return at, line, seq


cdef int64_t _key(Shard shard, const unsigned char *name, size_t size) except -1:
    """The key of an id the fast path read (printable ASCII), hashed once per id."""
    cdef int32_t number = shard.ids.intern(<const char *>name, size)
    if <size_t>number == shard.id_keys.size():
        shard.id_keys.push_back(user_key((<const char *>name)[:size].decode("ascii")))
    return shard.id_keys[number]


cdef bint _relink(Shard shard, int64_t key, const unsigned char *name, size_t size,
                  int64_t friend, bint added) noexcept:
    """The fast path's befriend or unfriend on ``key``'s side, if it lives here;
    False when another id holds ``key`` (nothing is changed then)."""
    if key % shard.count != shard.index:
        return True
    cdef int32_t user = shard._intern(key, <const char *>name, size)
    if user < 0:
        return False
    nf_relink(shard.adj[user], friend, added)
    return True


cdef dict _export(Shard shard):
    if not shard.between_epochs:
        raise ValueError("a shard is saved between epochs, with no delta")
    cdef size_t users = shard.keys_.size(), u, i, k = 0, n = shard.kept()
    cdef vector[int64_t] row
    keys = np.empty(users, dtype=np.int64)
    name_ends, friend_ends = np.empty_like(keys), np.empty_like(keys)
    friends = np.empty(shard.half_edges(), dtype=np.int64)
    owner, ts, seq, units = (np.empty(n, dtype=np.int64) for _ in range(4))
    cdef int64_t[::1] K = keys, N = name_ends, E = friend_ends, F = friends
    cdef int64_t[::1] O = owner, S = ts, Q = seq, V = units
    cdef int64_t length = 0, j = 0
    names = []
    for u in range(users):
        K[u] = shard.keys_[u]
        length += shard.names_[u].size()
        N[u] = length
        names.append(shard.names_[u])
        row = shard.adj[u]
        sort(row.begin(), row.end())
        for i in range(row.size()):
            F[k] = row[i]
            k += 1
        E[u] = k
        for i in range(shard.tails[u].size()):
            S[j], Q[j] = shard.tails[u][i].ts, shard.tails[u][i].seq
            V[j], O[j] = shard.tails[u][i].units, u
            j += 1
    by_key = np.lexsort((seq, ts))
    return {
        "keys": keys,
        "name_ends": name_ends,
        "names": np.frombuffer(b"".join(names), dtype=np.uint8),
        "friend_ends": friend_ends,
        "friends": friends,
        "ts": ts[by_key],
        "seq": seq[by_key],
        "owner": owner[by_key],
        "units": units[by_key],
        "units_text": np.empty(0, dtype=np.uint8),
    }


cdef _load(Shard shard, columns):
    if shard.keys_.size():
        raise ValueError("load() needs an empty shard")
    if columns["units_text"].size:
        raise OverflowError("amounts are too large for the compiled shard")
    cdef const int64_t[:] K = columns["keys"], N = columns["name_ends"]
    cdef const int64_t[:] E = columns["friend_ends"], F = columns["friends"]
    cdef const int64_t[:] S = columns["ts"], Q = columns["seq"]
    cdef const int64_t[:] O = columns["owner"], V = columns["units"]
    blob = columns["names"].tobytes()
    cdef Py_ssize_t users = K.shape[0], n = S.shape[0], u, i, start = 0
    if N.shape[0] != users or E.shape[0] != users or (users and N[users - 1] != len(blob)):
        raise ValueError("names, friend lists and keys differ in length")
    if (E[users - 1] if users else 0) != F.shape[0]:
        raise ValueError("friend lists and users differ in length")
    for u in range(users):
        if not shard.owns(K[u]) or N[u] < start or (u and E[u] < E[u - 1]):
            raise ValueError("a user is not this shard's, or the columns are not ordered")
        if shard.intern(K[u], blob[start : N[u]].decode("utf-8", "surrogatepass")) != u:
            raise ValueError("a user repeats")
        start = N[u]
        for i in range(E[u - 1] if u else 0, E[u]):
            if not shard.adj[u].empty() and F[i] <= shard.adj[u].back():
                raise ValueError("a friend list is not sorted, or repeats a friend")
            shard.adj[u].push_back(F[i])
    if Q.shape[0] != n or O.shape[0] != n or V.shape[0] != n:
        raise ValueError("purchase columns differ in length")
    cdef nf_bought e
    for i in range(n):
        if not 0 <= O[i] < users or V[i] < 0:
            raise ValueError("purchases name unknown users or hold a negative amount")
        if V[i] >= _UNITS_LIMIT:
            raise OverflowError("an amount is too large for the compiled shard")
        e.ts, e.seq, e.units = S[i], Q[i], V[i]
        if i and not (S[i - 1] < S[i] or S[i - 1] == S[i] and Q[i - 1] < Q[i]):
            raise ValueError("purchases are not sorted")
        if shard.tails[O[i]].size() >= <size_t>shard.T:
            raise ValueError("a user has more than T purchases")
        shard.tails[O[i]].push_back(e)
        shard.recency.index.push_back(_entry(e, O[i]))  # sorted by key, as the columns are
        shard.latest[O[i]] = e
        shard.max_units = max(shard.max_units, e.units)
