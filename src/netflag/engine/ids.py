"""User ids: their order wherever netflag lists users, their key on partitioned state.

The compiled core sorts by the same rule in C++ (``nf_id_less`` in
``_core_support.h``); the property tests hold the two together.
"""

from __future__ import annotations

from hashlib import blake2b

from netflag.errors import InputError

KEY_MASK = (1 << 63) - 1  # keys are int64 in the shards' messages


def id_order(user: str) -> tuple[int, int, str]:
    """Sort key for user ids: plain numbers first, numerically, then other ids by text.

    ``"007"`` and ``"7"`` are different users: equal numbers fall back to the text.

    >>> sorted(["10", "u-1", "9", "007", "7", "A"], key=id_order)
    ['007', '7', '9', '10', 'A', 'u-1']
    """
    if user.isascii() and user.isdigit():  # [0-9]+, without a regex: it is called a lot
        return (0, int(user), user)
    return (1, 0, user)


def user_key(name: str) -> int:
    """The user's 63-bit key on shards (``--shards``): a hash of the id, the same in every
    process and on every run.

    Two ids with one key would be one user; the owning shard sees both names
    and refuses (:class:`KeyClash`), so a clash is never silent.
    """
    return int.from_bytes(blake2b(name.encode(), digest_size=8).digest(), "little") & KEY_MASK


class KeyClash(InputError):
    """Two user ids hash to one key (about one chance in 10**7 at 10M users)."""
