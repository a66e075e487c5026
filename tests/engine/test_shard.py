"""One shard's state: reads as of a seq, and its arrays round trip (huge amounts included)."""

from __future__ import annotations

import pytest

from netflag.engine.history import order_key
from netflag.engine.ids import user_key
from netflag.engine.shard import Shard
from netflag.engine.shard_snapshot import shard_columns, shard_from_columns


def owned(count: int, index: int, how_many: int) -> list[str]:
    """``how_many`` user ids that hash to shard ``index`` of ``count``."""
    names = (str(n) for n in range(10_000))
    return [name for name in names if user_key(name) % count == index][:how_many]


def test_reads_are_as_of_the_checks_seq_until_the_epoch_ends() -> None:
    a, b = owned(2, 0, 2)
    shard = Shard(0, 2, 2, 3)
    ka, kb = user_key(a), user_key(b)
    shard.link(0, ka, a, kb, True, now=True)
    shard.buy(kb, b, 10, 1, 500, now=True)
    shard.link(5, ka, a, kb, False, now=False)  # unfriended at seq 5, in the epoch
    shard.buy(kb, b, 9, 7, 700, now=False)  # older timestamp, later arrival
    user_a, user_b = shard.local[ka], shard.local[kb]
    assert shard.friends_at(user_a, 5) == {kb} and shard.friends_at(user_a, 6) == set()
    assert shard.newest_at({user_b}, 7) == [(order_key(10, 1), 500)]
    assert shard.newest_at({user_b}, 8) == [(order_key(10, 1), 500), (order_key(9, 7), 700)]
    assert not shard.between_epochs
    shard.end_epoch()
    assert shard.between_epochs and shard.adj[user_a] == set()
    assert [units for _, _, units in shard.history.tails[user_b]] == [700, 500]


def test_the_arrays_give_back_the_same_shard_even_with_amounts_past_64_bits() -> None:
    names = owned(3, 1, 4)
    keys = [user_key(name) for name in names]
    shard = Shard(1, 3, 3, 2)
    for seq, (key, name) in enumerate(zip(keys, names, strict=True)):
        shard.link(seq, key, name, keys[(seq + 1) % 4], True, now=True)
        shard.buy(key, name, 100 - seq, seq, 10**30 * seq + 1, now=True)
    shard.buy(keys[0], names[0], 1, 9, 5, now=True)
    back = shard_from_columns(1, 3, 3, 2, shard_columns(shard))
    assert (back.keys, back.names, back.adj) == (shard.keys, shard.names, shard.adj)
    assert back.history.entries() == shard.history.entries()
    with pytest.raises(ValueError, match="not this shard's"):
        shard_from_columns(0, 3, 3, 2, shard_columns(shard))
    shard.buy(keys[0], names[0], 1, 10, 5, now=False)
    with pytest.raises(ValueError, match="between epochs"):
        shard_columns(shard)
