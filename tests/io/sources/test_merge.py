"""The multi-partition order depends on the partitions' content, never on arrival timing."""

from __future__ import annotations

import heapq

from hypothesis import given
from hypothesis import strategies as st

from netflag.io.sources.merge import Merger

# Per partition: the timestamps of its messages, in offset order (any order of time).
Partitions = st.lists(st.lists(st.integers(-1, 6), max_size=12), min_size=1, max_size=4)


def by_heads(partitions: list[list[int]]) -> list[tuple[int, int]]:
    """The documented rule, written plainly: repeatedly take the head with the smallest
    (timestamp, partition, offset). heapq.merge does exactly that over unsorted inputs."""
    rows = [[(ts, p, o) for o, ts in enumerate(stamps)] for p, stamps in enumerate(partitions)]
    return [(p, o) for _, p, o in heapq.merge(*rows)]


@given(Partitions, st.data())
def test_any_arrival_schedule_gives_the_same_order(partitions: list[list[int]], data) -> None:
    merge = Merger(range(len(partitions)), idle=None)
    sent = [0] * len(partitions)
    out: list[tuple[int, int]] = []
    while any(sent[p] < len(stamps) for p, stamps in enumerate(partitions)):
        # a random partition delivers a random number of its next messages
        waiting = [p for p, stamps in enumerate(partitions) if sent[p] < len(stamps)]
        p = data.draw(st.sampled_from(waiting))
        for _ in range(data.draw(st.integers(1, 3))):
            if sent[p] < len(partitions[p]):
                merge.add(p, sent[p], partitions[p][sent[p]], b"")
                sent[p] += 1
        out += [(q, o) for q, o, _ in merge.ready(0.0, at_end=set())]
    done = {p for p in range(len(partitions))}  # every partition is at its end now
    merge.idle = 0.0
    out += [(q, o) for q, o, _ in merge.ready(0.0, at_end=done)]
    assert out == by_heads(partitions)


def test_one_partition_is_its_offset_order_whatever_the_timestamps() -> None:
    merge = Merger([0], idle=None)
    for offset, stamp in enumerate([5, 1, 9, 0]):
        merge.add(0, offset, stamp, b"%d" % offset)
    assert [raw for _, _, raw in merge.ready(0.0, set())] == [b"0", b"1", b"2", b"3"]


def test_a_partition_being_read_holds_the_others_back_and_a_silent_one_for_idle_seconds() -> None:
    merge = Merger([0, 1], idle=2.0)
    merge.add(0, 0, 10, b"a")
    assert list(merge.ready(0.0, at_end=set())) == []  # 1 is still being read
    assert list(merge.ready(0.0, at_end={1})) == []  # 1 is at its end: it may get more
    assert list(merge.ready(1.9, at_end={1})) == []
    assert [raw for _, _, raw in merge.ready(2.0, at_end={1})] == [b"a"]
    merge.add(1, 0, 3, b"late")  # comes after the silence: placed where it arrives
    merge.add(0, 1, 11, b"b")
    assert [raw for _, _, raw in merge.ready(2.1, at_end=set())] == [b"late"]
