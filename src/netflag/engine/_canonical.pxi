# The compiled core's batch fast path: Core.feed's loop, which applies the canonical lines
# _parse.pxi reads straight to the state. Included by _core.pyx after _parse.pxi.


cdef tuple _feed(Core core, const unsigned char[:] data, Py_ssize_t pos, Py_ssize_t end,
                 Py_ssize_t line, int64_t seq, int scale, size_t max_id, size_t max_line):
    """Core.feed: apply the event lines of ``data`` from ``pos`` while they are canonical.

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
            _purchase(core, core._intern(<const char *>id1, size1), ts, seq, units * factor)
        else:
            if size1 == size2 and memcmp(id1, id2, size1) == 0:
                break
            a = core._intern(<const char *>id1, size1)
            b = core._intern(<const char *>id2, size2)
            if kind == 2:
                if not core.graph.linked(a, b):
                    core.graph.link(a, b)
                    core.graph.link(b, a)
            elif core.graph.linked(a, b):
                core.graph.unlink(a, b)
                core.graph.unlink(b, a)
        seq += 1
        line += 1
        at = after
    return at, line, seq


cdef void _purchase(Core core, int32_t user, int64_t ts, int64_t seq, int64_t units) noexcept:
    cdef nf_entry e
    e.ts, e.seq, e.units, e.owner, e.gone = ts, seq, units, user, 0
    _add(core, e)
