"""One deterministic order for a topic of many partitions: merged by (timestamp, partition, offset).

Within a partition the order is its offsets'. Across partitions the merge
always releases, among the heads of the partitions (each one's next unread
message), the one with the smallest key ``(timestamp, partition, offset)``,
where ``timestamp`` is the event's own (SPEC ``YYYY-MM-DD HH:MM:SS``, as
seconds) and a line without a valid one sorts first (it is rejected anyway).
A head may be released only while every partition has a head to compare it
with: the *watermark*. So the order depends only on what each partition holds,
never on when its messages happened to arrive, and a restart that re-reads
each partition from its checkpointed offset continues the same order.

A partition that has nothing to read (it is at its end) and stays silent for
``idle`` seconds no longer holds the others back; its next message then joins
the merge when it comes. That is the one place where time enters: if a silent
partition later receives a message older than what was released meanwhile,
that message is placed where it arrives instead of where its timestamp would
have put it. With ``idle=None`` the merge waits for every partition forever.

>>> merge = Merger([0, 1], idle=5.0)
>>> merge.add(0, 0, 5, b"a"); merge.add(1, 0, 3, b"b"); merge.add(0, 1, 9, b"c")
>>> [raw for _, _, raw in merge.ready(now=0.0, at_end=set())]  # 1 is still being read
[b'b']
>>> [raw for _, _, raw in merge.ready(now=1.0, at_end={1})]  # 1 may yet get an older one
[]
>>> [raw for _, _, raw in merge.ready(now=6.0, at_end={1})]  # silent for 5 s: passed
[b'a', b'c']
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Iterator

Message = tuple[int, int, bytes]  # partition, offset, raw line


class Merger:
    """Heads of every partition, released in key order behind the watermark."""

    def __init__(self, partitions: Iterable[int], idle: float | None) -> None:
        self.idle = idle
        self.queues: dict[int, deque[tuple[int, int, bytes]]] = {p: deque() for p in partitions}
        self._quiet_since: dict[int, float] = {}  # empty and at its end since then
        self._heads: list[tuple[int, int, int]] = []  # (timestamp, partition, offset)

    def add(self, partition: int, offset: int, timestamp: int, raw: bytes) -> None:
        """A message read from ``partition`` (they come in offset order per partition)."""
        queue = self.queues[partition]
        queue.append((offset, timestamp, raw))
        self._quiet_since.pop(partition, None)
        if len(queue) == 1:
            heapq.heappush(self._heads, (timestamp, partition, offset))

    def buffered(self) -> int:
        """Messages read but not released yet."""
        return sum(len(queue) for queue in self.queues.values())

    def ready(self, now: float, at_end: set[int]) -> Iterator[Message]:
        """Release every head that the watermark allows; ``at_end`` holds the partitions
        with nothing left to read right now (a silent one may be passed after ``idle``)."""
        while self._heads and self._all_heard(now, at_end):
            _, partition, offset = heapq.heappop(self._heads)
            queue = self.queues[partition]
            _, _, raw = queue.popleft()
            if queue:
                next_offset, timestamp, _ = queue[0]
                heapq.heappush(self._heads, (timestamp, partition, next_offset))
            yield partition, offset, raw

    def _all_heard(self, now: float, at_end: set[int]) -> bool:
        """Every partition has a head, or is at its end and silent for ``idle`` seconds."""
        for partition, queue in self.queues.items():
            if queue:
                continue
            if partition not in at_end or self.idle is None:
                return False
            since = self._quiet_since.setdefault(partition, now)
            if now - since < self.idle:
                return False
        return True
