"""A shard's state as arrays, and back: what a shard's snapshot holds (no pickled objects).

Live mode on shards checkpoints each shard with these (see
:mod:`netflag.distributed.shards`); only between epochs, when the delta is empty.
"""

from __future__ import annotations

import numpy as np

from netflag.engine.history import SEQ_BITS, order_key
from netflag.engine.ids import KEY_MASK
from netflag.engine.shard import Shard

_LOW = (1 << SEQ_BITS) - 1


def shard_columns(shard: Shard) -> dict[str, np.ndarray]:
    """The state at an epoch's end as arrays, for a snapshot (no pickled objects).

    Units are decimal text (``units_text``) when one outgrows 64 bits.
    """
    if not shard.between_epochs:
        raise ValueError("a shard is saved between epochs, with no delta")
    names = [name.encode() for name in shard.names]
    friends = [sorted(friends) for friends in shard.adj]
    kept = shard.history.entries()
    units = [entry[2] for entry in kept]
    big = max(units, default=0) > KEY_MASK
    return {
        "keys": np.array(shard.keys, dtype=np.int64),
        "name_ends": np.cumsum([len(name) for name in names], dtype=np.int64),
        "names": np.frombuffer(b"".join(names), dtype=np.uint8),
        "friend_ends": np.cumsum([len(each) for each in friends], dtype=np.int64),
        "friends": np.array([f for each in friends for f in each], dtype=np.int64),
        "ts": np.array([key >> SEQ_BITS for key, _, _ in kept], dtype=np.int64),
        "seq": np.array([key & _LOW for key, _, _ in kept], dtype=np.int64),
        "owner": np.array([owner for _, owner, _ in kept], dtype=np.int64),
        "units": np.array([0 if big else u for u in units], dtype=np.int64),
        "units_text": np.frombuffer(
            ",".join(map(str, units)).encode() if big else b"", dtype=np.uint8
        ),
    }


def shard_from_columns(
    index: int, count: int, D: int, T: int, columns: dict[str, np.ndarray]
) -> Shard:
    """The shard :func:`shard_columns` saved; ValueError (or KeyError) when they do not fit."""
    shard = Shard(index, count, D, T)
    blob = columns["names"].tobytes()
    starts = [0, *columns["name_ends"].tolist()]
    keys = columns["keys"].tolist()
    if len(starts) != len(keys) + 1 or starts[-1] != len(blob):
        raise ValueError("names and keys differ in length")
    for number, key in enumerate(keys):
        if (
            not shard.owns(key)
            or shard.intern(key, blob[starts[number] : starts[number + 1]].decode()) != number
        ):
            raise ValueError("a user is not this shard's, or repeats")
    ends = [0, *columns["friend_ends"].tolist()]
    friends = columns["friends"].tolist()
    if len(ends) != len(keys) + 1 or ends[-1] != len(friends):
        raise ValueError("friend lists and users differ in length")
    for number in range(len(keys)):
        shard.adj[number] = set(friends[ends[number] : ends[number + 1]])
    text = columns["units_text"].tobytes()
    units = [int(u) for u in text.split(b",")] if text else columns["units"].tolist()
    owners = columns["owner"].tolist()
    entries = [
        (order_key(t, q), o, u)
        for t, q, o, u in zip(
            columns["ts"].tolist(), columns["seq"].tolist(), owners, units, strict=True
        )
    ]
    if any(not 0 <= o < len(keys) for o in owners) or entries != sorted(entries):
        raise ValueError("purchases name unknown users or are not sorted")
    shard.history.load(entries)
    return shard
