"""A shard's kernels, compiled and pure Python: the same messages, sums, counters and arrays.

Each superstep of random epochs runs on P shards of each kernel side by side;
every message must hold the same rows (a box's row order is each kernel's
own), and the decide sums and traffic counters must be equal.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netflag.distributed.shards import ShardNode
from netflag.engine.ids import KeyClash, user_key
from netflag.engine.shard import Shard
from netflag.engine.shard_cores import columns_of, kernel_of, new_shard, shard_of, to_python
from netflag.engine.shard_messages import Box, pack, unpack

KERNELS = ("compiled", "python")
NAMES = [f"u{n}" for n in range(12)]
KEYS = [user_key(name) for name in NAMES]


def rows(box: Box) -> list[tuple[int, ...]]:
    return sorted(zip(*(row.tolist() for row in box), strict=True))


def write(shards: list[Shard], event: tuple[int, ...], seq: int, now: bool) -> None:
    """One event's writes, each to the shard owning its user."""
    kind, a, b, units = event
    count = len(shards)
    if kind == 0:
        shards[KEYS[a] % count].buy(KEYS[a], NAMES[a], b, seq, units, now=now)
    elif a != b:
        for one, two in ((a, b), (b, a)):
            shard = shards[KEYS[one] % count]
            shard.link(seq, KEYS[one], NAMES[one], KEYS[two], kind == 1, now=now)


events = st.tuples(
    st.integers(0, 2), st.integers(0, 11), st.integers(0, 11), st.integers(0, 10**6)
).map(lambda e: (e[0], e[1], e[2] if e[0] else e[2] % 4, e[3]))


@settings(max_examples=200, deadline=None)
@given(
    shards=st.integers(1, 4),
    D=st.integers(1, 4),
    T=st.integers(2, 5),
    batch=st.lists(events, max_size=60),
    epochs=st.lists(st.lists(events, min_size=1, max_size=30), min_size=1, max_size=3),
)
def test_both_kernels_send_the_same_messages_and_sums(shards, D, T, batch, epochs) -> None:
    runs = {k: [new_shard(s, shards, D, T, k) for s in range(shards)] for k in KERNELS}
    assert {kernel_of(s) for s in runs["compiled"]} == {"compiled"}
    for seq, event in enumerate(batch):
        for kernel in KERNELS:
            write(runs[kernel], event, seq, now=True)
    seq = len(batch)
    for epoch in epochs:
        checks = [(seq + i, KEYS[e[1]]) for i, e in enumerate(epoch) if e[0] == 0]
        for kernel in KERNELS:
            for i, event in enumerate(epoch):
                write(runs[kernel], event, seq + i, now=False)
        seq += len(epoch)
        box = np.array(checks, dtype=np.int64).T.reshape(2, len(checks))
        sent = {k: [s.begin(box) for s in runs[k]] for k in KERNELS}
        for _ in range(D):  # D - 1 steps, then the gather
            for kernel in KERNELS:
                assert [[rows(b) for b in out] for out in sent[kernel]] == [
                    [rows(b) for b in out] for out in sent["python"]
                ]
            last = _ == D - 1
            sent = {
                k: [
                    (s.gather if last else s.step)([out[d] for out in sent[k]])
                    for d, s in enumerate(runs[k])
                ]
                for k in KERNELS
            }
        assert [[rows(b) for b in out] for out in sent["compiled"]] == [
            [rows(b) for b in out] for out in sent["python"]
        ]
        sums = {
            k: [s.decide([out[d] for out in sent[k]]) for d, s in enumerate(runs[k])]
            for k in KERNELS
        }
        assert sums["compiled"] == sums["python"]
    for one, two in zip(runs["compiled"], runs["python"], strict=True):
        assert (one.messages, one.ids_sent, one.entries_sent) == (
            two.messages,
            two.ids_sent,
            two.entries_sent,
        )
        assert (one.users, one.kept(), one.half_edges(), one.state_bytes()) == (
            two.users,
            two.kept(),
            two.half_edges(),
            two.state_bytes(),
        )
        mine, theirs = columns_of(one), columns_of(two)
        assert mine.keys() == theirs.keys()
        assert all(np.array_equal(mine[name], theirs[name]) for name in mine)
        back = shard_of(one.index, shards, D, T, mine, "compiled")
        assert kernel_of(back) == "compiled"
        assert all(np.array_equal(columns_of(back)[name], mine[name]) for name in mine)


def test_a_compiled_shard_refuses_what_it_cannot_hold_and_its_twin_takes_it() -> None:
    shard = new_shard(0, 1, 2, 3, "compiled")
    shard.buy(KEYS[0], NAMES[0], 5, 0, 2**48 - 1, now=True)
    with pytest.raises(OverflowError):
        shard.buy(KEYS[0], NAMES[0], 6, 1, 2**48, now=True)
    with pytest.raises(OverflowError):
        shard.rescale(10)
    shard.link(2, KEYS[0], NAMES[0], KEYS[1], True, now=True)
    shard.messages = 7
    twin = to_python(shard)
    assert isinstance(twin, Shard) and twin.messages == 7 and twin.half_edges() == 1
    twin.rescale(10**30)
    columns = columns_of(twin)
    assert columns["units_text"].size  # past 64 bits: decimal text
    assert kernel_of(shard_of(0, 1, 2, 3, columns, "compiled")) == "python"


def test_a_node_moves_to_the_twin_before_keeping_a_huge_amount(tmp_path) -> None:
    batch = tmp_path / "batch"
    fields = '"timestamp":"2017-06-13 11:33:01", "id": "1", "amount": "16.83"'
    batch.write_text(f'{{"event_type":"purchase", {fields}}}\n')
    node = ShardNode(0, 1, 1, 2, "compiled")
    assert node.load(str(batch), None)[:2] == (1, 2) and node.stats()["kernel"] == "compiled"
    node.begin(2, pack([(0, 1, KEYS[0], NAMES[0], 7, 10**20)]), np.empty((2, 0), np.int64), None)
    assert node.stats()["kernel"] == "python"


def test_a_compiled_shard_sums_amounts_past_64_bits_by_the_twins_rule() -> None:
    shard = new_shard(0, 2, 1, 3, "compiled")
    key = next(key for key in KEYS if key % 2 == 0)
    shard.buy(key, NAMES[KEYS.index(key)], 1, 0, 1, now=False)
    shard.begin(np.array([[0], [key]], dtype=np.int64))
    huge = np.array([[0, 0], [3, 4], [1, 2], [10**30, 1]], dtype=object)
    assert shard.decide([huge]) == [(0, 2, 10**30 + 1, 10**60 + 1)]
    assert shard.between_epochs


@given(key=st.integers(0, 2**64 - 1), count=st.integers(1, 2**64 - 1))
def test_a_rounds_owner_is_the_key_modulo_the_shards(key: int, count: int) -> None:
    from netflag.engine._shard import owner_of

    assert owner_of(key, count) == key % count


def test_a_walk_that_runs_out_of_budget_gives_way_to_the_merge() -> None:
    """100 friends who bought long ago and 50 strangers with 50 newer purchases each: the
    walk (100² > 50·151 users) looks at its 464 entries, finds no friend, and the merge
    answers; both kernels give the same sums."""
    names = [f"n{i}" for i in range(151)]
    keys = [user_key(name) for name in names]
    sums = {}
    for kernel in KERNELS:
        shard, seq = new_shard(0, 1, 1, 50, kernel), 0
        for friend in range(1, 101):
            shard.link(seq, keys[0], names[0], keys[friend], True, now=True)
            shard.link(seq, keys[friend], names[friend], keys[0], True, now=True)
            shard.buy(keys[friend], names[friend], 10 + friend, seq + 1, 100 + friend, now=True)
            seq += 2
        for stranger in range(101, 151):
            for ts in range(50):
                shard.buy(keys[stranger], names[stranger], 1_000 + ts, seq, 7, now=True)
                seq += 1
        shard.buy(keys[0], names[0], 5_000, seq, 1, now=False)
        sent = shard.begin(np.array([[seq], [keys[0]]], dtype=np.int64))
        sums[kernel] = shard.decide([shard.gather([sent[0]])[0]])
        if kernel == "compiled":
            assert shard.keys_read > 464
    assert sums["compiled"] == sums["python"]
    assert sums["compiled"][0][:3] == (0, 50, sum(100 + f for f in range(51, 101)))


def test_writes_travel_as_arrays_and_both_kernels_take_them_alike() -> None:
    writes = [
        (1, 3, KEYS[0], NAMES[0], KEYS[1], 1),
        (0, 4, KEYS[2], "ü-€", 9, 2**47),
        (1, 5, KEYS[0], NAMES[0], KEYS[1], 0),
    ]
    rows, names, ends = pack(writes)
    assert rows.dtype == np.int64 and rows.shape == (5, 3)
    assert list(unpack(rows, names, ends)) == writes
    huge = pack([(0, 1, KEYS[0], NAMES[0], 7, 10**20)])
    assert huge[0].dtype == object and next(unpack(*huge))[5] == 10**20
    assert list(unpack(*pack([]))) == []
    columns = []
    for kernel in KERNELS:
        shard = new_shard(0, 1, 2, 3, kernel)
        shard.apply(rows, names, ends)
        shard.end_epoch()
        columns.append(columns_of(shard))
        with pytest.raises(KeyClash, match="hash to one key"):
            shard.apply(*pack([(0, 6, KEYS[2], "another", 1, 1)]))
    assert all(np.array_equal(columns[0][name], columns[1][name]) for name in columns[0])
    with pytest.raises(OverflowError):
        new_shard(0, 1, 2, 3, "compiled").apply(*huge)


def test_a_missing_build_is_said_once_and_never_passed_off_as_compiled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from netflag.engine import shard_cores

    monkeypatch.setattr(shard_cores, "_compiled", None)
    monkeypatch.setattr(shard_cores, "_told", False)
    monkeypatch.delenv("NETFLAG_PUREPYTHON", raising=False)
    assert all(kernel_of(new_shard(0, 1, 2, 3)) == "python" for _ in range(2))
    assert capsys.readouterr().err.count("compiled shard kernels are not built") == 1
    with pytest.raises(ImportError, match="compiled shard kernels are not available"):
        new_shard(0, 1, 2, 3, "compiled")
