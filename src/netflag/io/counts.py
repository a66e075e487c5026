"""Counts in the lines netflag prints for people: ``1 flag``, ``2 flags``, ``1,204 events``.

In the lowest layer that prints counts (the modes' summaries, the CLI's lines),
so every summary spells a number and its noun the same way.
"""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators, then ``noun``, plural (``noun + "s"`` unless
    given) for any number but 1.

    >>> count(1, "flag"), count(1_204, "event"), count(0, "setting")
    ('1 flag', '1,204 events', '0 settings')
    >>> count(1, "stream purchase"), count(2, "match", "matches")
    ('1 stream purchase', '2 matches')
    """
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
