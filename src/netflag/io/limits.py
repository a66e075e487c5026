"""Bounds on one input line, so a hostile line costs no more than its share.

Each bound is a reject (a :class:`~netflag.io.events.LineError` with a one-line
reason), never a crash: a line over one is skipped like any other bad line.
The values sit far above anything a shop writes (an event line is about 100
bytes, one level deep, with ids of a few characters) and low enough that no
line can make netflag recurse, hold more than a few MiB, or grow a cache.
"""

from __future__ import annotations

# The longest line, line ending not counted: 10,000 times a real event line.
# A longer line is rejected after reading it in chunks, never held whole.
MAX_LINE_BYTES = 1 << 20

# The deepest nesting of objects and arrays, the event object itself being
# level 1: extra fields may nest, but not so deep that a parser recurses away.
MAX_DEPTH = 64

# The longest id (a string, or an integer's decimal digits): an e-mail address
# (at most 254 characters) fits. The engine keeps every id it sees, for good.
MAX_ID_CHARS = 256

# The longest amount text (a string, or a JSON number's literal): 64 significant
# digits and 18 decimal places fit with room to spare. Amount texts are cached
# (16,384 of them), so this also bounds that cache to a few MiB.
MAX_AMOUNT_CHARS = 128


def line_length(raw: bytes) -> int:
    """Bytes of a line without its ending (``\\n`` or ``\\r\\n``)."""
    if raw.endswith(b"\n"):
        return len(raw) - (2 if raw.endswith(b"\r\n") else 1)
    return len(raw)


def too_long(raw: bytes, limit: int = MAX_LINE_BYTES) -> bool:
    """True when ``raw`` is over the line limit (cheap for every short line)."""
    return len(raw) > limit and line_length(raw) > limit
