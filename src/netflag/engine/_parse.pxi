# The canonical-line parser of the batch fast path: a line it reads here means exactly the
# event netflag.io.events.parse_event reads (tests/io/test_bulk.py compares them). Included
# by _core.pyx (Core.feed, _canonical.pxi) and _shard.pyx (Shard.feed).

cdef extern from "<string.h>" nogil:
    const void *memchr(const void *s, int c, size_t n)
    int memcmp(const void *a, const void *b, size_t n)

cdef int64_t[19] _POW10
_POW10[0] = 1
for _i in range(1, 19):
    _POW10[_i] = _POW10[_i - 1] * 10
cdef int[13] _MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
cdef int[13] _DAYS_BEFORE = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]


cdef inline bint _blank(const unsigned char *p, const unsigned char *stop) noexcept:
    """Only whitespace (as bytes.strip() sees it) before ``stop``."""
    while p < stop:
        if p[0] not in (32, 9, 10, 13, 11, 12):
            return False
        p += 1
    return True


cdef inline bint _literal(const unsigned char **p, const unsigned char *stop,
                          const char *text, int size) noexcept:
    """Consume ``text`` at p[0] if it is there."""
    if stop - p[0] < size:
        return False
    cdef int i
    for i in range(size):
        if p[0][i] != <unsigned char>text[i]:
            return False
    p[0] += size
    return True


cdef inline int _digits(const unsigned char *p, int count) noexcept:
    """The value of ``count`` ASCII digits at p, or -1."""
    cdef int value = 0, i
    for i in range(count):
        if p[i] < 48 or p[i] > 57:
            return -1
        value = value * 10 + (p[i] - 48)
    return value


cdef inline bint _timestamp(const unsigned char *p, int64_t *out) noexcept:
    """``YYYY-MM-DD HH:MM:SS`` as a real date and time: seconds since 0001-01-01."""
    if p[4] != 45 or p[7] != 45 or p[10] != 32 or p[13] != 58 or p[16] != 58:
        return False
    cdef int year = _digits(p, 4), month = _digits(p + 5, 2), day = _digits(p + 8, 2)
    cdef int hour = _digits(p + 11, 2), minute = _digits(p + 14, 2), second = _digits(p + 17, 2)
    if year < 1 or month < 1 or month > 12 or day < 1 or hour < 0 or hour > 23:
        return False
    if minute < 0 or minute > 59 or second < 0 or second > 59:
        return False
    cdef bint leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day > _MONTH_DAYS[month] + (month == 2 and leap):
        return False
    cdef int64_t y = year - 1
    cdef int64_t days = y * 365 + y // 4 - y // 100 + y // 400
    days += _DAYS_BEFORE[month] + (month > 2 and leap) + day - 1
    out[0] = days * 86400 + hour * 3600 + minute * 60 + second
    return True


cdef inline bint _identifier(const unsigned char **p, const unsigned char *stop,
                             const unsigned char **out, size_t *size, size_t max_id) noexcept:
    """A quoted id: 1 to ``max_id`` printable ASCII characters, no quote or backslash."""
    cdef const unsigned char *start = p[0]
    cdef const unsigned char *q = start
    if <size_t>(stop - start) > max_id + 1:
        stop = start + max_id + 1  # a longer id is left to the parser, which rejects it
    while q < stop and q[0] != 34:
        if q[0] < 32 or q[0] > 126 or q[0] == 92:
            return False
        q += 1
    if q == start or q >= stop:
        return False
    out[0], size[0] = start, q - start
    p[0] = q + 1
    return True


cdef inline int _canonical(const unsigned char *p, const unsigned char *stop, int64_t *ts,
                           const unsigned char **id1, size_t *size1,
                           const unsigned char **id2, size_t *size2,
                           int64_t *units, int *scale, size_t max_id) noexcept:
    """The event of a canonical line: 1 purchase, 2 befriend, 3 unfriend; 0 if not one."""
    cdef int kind
    if not _literal(&p, stop, b'{"event_type":"', 15):
        return 0
    if _literal(&p, stop, b"purchase", 8):
        kind = 1
    elif _literal(&p, stop, b"befriend", 8):
        kind = 2
    elif _literal(&p, stop, b"unfriend", 8):
        kind = 3
    else:
        return 0
    if not _literal(&p, stop, b'", "timestamp":"', 16) or stop - p < 19:
        return 0
    if not _timestamp(p, ts):
        return 0
    p += 19
    cdef const unsigned char *start
    cdef int whole = 0, fraction = 0
    cdef int64_t value = 0
    if kind == 1:
        if not _literal(&p, stop, b'", "id": "', 10) or not _identifier(&p, stop, id1, size1, max_id):
            return 0
        if not _literal(&p, stop, b', "amount": "', 13):
            return 0
        while p < stop and 48 <= p[0] <= 57 and whole <= 12:
            value = value * 10 + (p[0] - 48)
            whole += 1
            p += 1
        if whole < 1 or whole > 12:
            return 0
        scale[0] = 0
        if p < stop and p[0] == 46:
            p += 1
            while p < stop and 48 <= p[0] <= 57 and fraction <= 3:
                value = value * 10 + (p[0] - 48)
                fraction += 1
                p += 1
            if fraction < 1 or fraction > 3:
                return 0
            scale[0] = fraction
            while scale[0] > 0 and value % 10 == 0:  # trailing zeros say nothing
                value //= 10
                scale[0] -= 1
        units[0] = value
        if not _literal(&p, stop, b'"}', 2):
            return 0
    else:
        if not _literal(&p, stop, b'", "id1": "', 11) or not _identifier(&p, stop, id1, size1, max_id):
            return 0
        if not _literal(&p, stop, b', "id2": "', 10) or not _identifier(&p, stop, id2, size2,
                                                                          max_id):
            return 0
        if not _literal(&p, stop, b"}", 1):
            return 0
    return kind if p == stop else 0
