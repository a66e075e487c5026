"""The order of user ids wherever netflag lists users (feeds, recommendations, reports).

The compiled core sorts by the same rule in C++ (``nf_id_less`` in
``_core_support.h``); the property tests hold the two together.
"""

from __future__ import annotations


def id_order(user: str) -> tuple[int, int, str]:
    """Sort key for user ids: plain numbers first, numerically, then other ids by text.

    ``"007"`` and ``"7"`` are different users: equal numbers fall back to the text.

    >>> sorted(["10", "u-1", "9", "007", "7", "A"], key=id_order)
    ['007', '7', '9', '10', 'A', 'u-1']
    """
    if user.isascii() and user.isdigit():  # [0-9]+, without a regex: it is called a lot
        return (0, int(user), user)
    return (1, 0, user)
