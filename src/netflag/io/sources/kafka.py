"""A Kafka topic as a live source: every partition read, merged in one deterministic order.

The consumer is assigned every partition of the topic (no rebalancing: one
netflag reads the whole topic, since a flag needs the whole graph) and reads
only committed records (``read_committed``). Partitions are merged by
:class:`~netflag.io.sources.merge.Merger`: by (event timestamp, partition,
offset) behind a watermark, so the same topic content gives the same order,
and a single partition gives its offset order exactly.

A position is the next offset of every partition (``{"0": 120, "1": 98}``);
live mode's checkpoint holds it, and a restart seeks each partition there, so
the merge continues exactly where the checkpoint left it. :meth:`commit` also
commits those offsets to the consumer group, with the run's id as metadata:
the group then shows the lag to Kafka's own tools, and a second netflag state
directory on the same group is refused instead of fighting over it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from netflag.errors import InputError
from netflag.io.events import parse_timestamp
from netflag.io.kafka_client import (
    GIVE_UP_SECONDS,
    Refusals,
    client_config,
    describe,
    failure,
    parse_url,
    partitions_of,
    refusal,
)
from netflag.io.output import rejection_record
from netflag.io.sources.base import Lag, Line, Position
from netflag.io.sources.merge import Merger

OWNER = "netflag run "  # committed-offset metadata: which run owns the group
RECORD = "record"  # in a position: the partition and offset of its line, for messages
BATCH = 1000  # records fetched per consume call
MAX_BUFFERED = 50_000  # read ahead of the merge at most this many records (about 5 MB)


def timestamp_of(raw: bytes) -> int:
    """The event's timestamp in seconds, the merge's first key; -1 when it has none."""
    try:
        value = orjson.loads(raw)
        return parse_timestamp(value["timestamp"]) if isinstance(value, dict) else -1
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return -1


class KafkaSource:
    """``kafka://HOST:PORT/TOPIC?group=NAME&idle=SECONDS``, read through a consumer group."""

    finished = False  # a topic never ends

    def __init__(self, url: str, config: Mapping[str, str] | None = None) -> None:
        self.url = url
        self.target = parse_url(url)
        settings = {
            "group.id": self.target.group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 100,  # an empty fetch tells a partition's end this soon
        }
        self._refusals = Refusals(url)
        self._consumer = Consumer(client_config(self.target, config, self._refusals, **settings))
        self.partitions = partitions_of(self._consumer, self.target, self._refusals)
        self._merge = Merger(self.partitions, self.target.idle)
        self._next: dict[int, int] = {}  # next offset to release, by partition
        self._at_end: set[int] = set()
        self._ends: dict[int, int] = {}  # the partition's end when last known
        self._run: str | None = None
        self._failing_since: float | None = None

    def resume(self, position: Position | None, run: str | None = None) -> None:
        """Seek every partition to ``position`` (None: its beginning). ``run`` is the
        live run's id (None without a state directory: nothing is committed then)."""
        self._run = run
        if run is not None:
            self._claim(run)
        offsets = {int(p): int(o) for p, o in (position or {}).items() if p != RECORD}
        self._next = {p: offsets.get(p, OFFSET_BEGINNING) for p in self.partitions}
        topic = self.target.topic
        self._consumer.assign([TopicPartition(topic, p, o) for p, o in self._next.items()])

    def _claim(self, run: str) -> None:
        """Refuse a group whose offsets another netflag run committed."""
        topic = self.target.topic
        asked = [TopicPartition(topic, p) for p in self.partitions]
        try:
            committed = self._consumer.committed(asked, timeout=10.0)
        except KafkaException as exception:
            raise failure(self.url, exception.args[0]) from None
        for part in committed:
            owner = part.metadata or ""
            if part.offset >= 0 and owner != OWNER + run:
                other = owner if owner.startswith(OWNER) else "another reader"
                raise InputError(
                    f"{self.url}: consumer group {self.target.group!r} already holds offsets"
                    f" of {other}: give this run its own group (?group=NAME), or resume it"
                    " with the --state directory that owns the group"
                )

    def poll(self, timeout: float, limit: int) -> list[Line]:
        """Up to ``limit`` lines in merged order, waiting at most ``timeout`` for the first.

        Messages already buffered go first, and the client is asked without waiting
        while there are lines to hand over and it has a full batch at hand: a wait
        happens only when nothing can go, and lines never wait for more lines.
        """
        deadline = time.monotonic() + timeout
        out: list[Line] = []
        self._release(out, limit)
        while len(out) < limit:
            if out and self._merge.buffered() >= MAX_BUFFERED:
                break  # enough in hand: a backlog stays in Kafka, not in memory
            wait = 0.0 if out else max(0.0, min(0.1, deadline - time.monotonic()))
            fetched = self._fetch(wait)
            self._release(out, limit)
            if time.monotonic() >= deadline or (out and fetched < BATCH):
                break  # the client had no more at hand: hand these over now
        return out

    def _release(self, out: list[Line], limit: int) -> None:
        """Move what the watermark allows into ``out``, up to ``limit`` lines in all."""
        if len(out) >= limit:
            return
        for partition, offset, raw in self._merge.ready(time.monotonic(), self._at_end):
            self._next[partition] = offset + 1
            position: Position = {str(p): o for p, o in self._next.items()}
            position[RECORD] = f"{partition}:{offset}"
            out.append((position, raw))
            if len(out) >= limit:
                return

    def _fetch(self, timeout: float) -> int:
        """Buffer what the client has (waiting up to ``timeout``); how many events it gave."""
        self._refusals.check()
        try:
            messages = self._consumer.consume(BATCH, timeout)
        except KafkaException as exception:
            self._trouble(exception.args[0])
            return 0
        for message in messages:
            error, partition, offset = message.error(), message.partition(), message.offset()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                self._trouble(error)
                continue
            if partition is None or offset is None:
                continue  # not a partition's record (a client-level event)
            if error is not None:
                self._at_end.add(partition)
                self._ends[partition] = offset
                continue
            self._failing_since = None
            self._at_end.discard(partition)
            raw = message.value() or b""
            raw = raw if isinstance(raw, bytes) else raw.encode()
            self._merge.add(partition, offset, timestamp_of(raw), raw)
        return len(messages)

    def _trouble(self, error: KafkaError) -> None:
        """A refusal ends the run; anything else is retried by the client, up to a bound."""
        refused = refusal(self.url, error)
        if refused is not None:
            raise refused
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        elif now - self._failing_since > GIVE_UP_SECONDS:
            raise InputError(
                f"{self.url}: cannot reach Kafka for {GIVE_UP_SECONDS:g} s: {describe(error)}"
            )

    def commit(self, position: Position) -> None:
        """Commit the checkpointed offsets to the group (with the run id as metadata)."""
        if self._run is None:
            return
        topic, owner = self.target.topic, OWNER + self._run
        offsets = [
            TopicPartition(topic, int(p), int(o), metadata=owner)
            for p, o in position.items()
            if p != RECORD and int(o) >= 0
        ]
        if not offsets:
            return
        started = time.monotonic()
        while True:
            try:
                self._consumer.commit(offsets=offsets, asynchronous=False)
                return
            except KafkaException as exception:
                error = exception.args[0]
                if refusal(self.url, error) is not None or (
                    time.monotonic() - started > GIVE_UP_SECONDS
                ):
                    raise failure(self.url, error) from None
                time.sleep(0.2)

    def describe(self, position: Position) -> str:
        """``URL#PARTITION:OFFSET``: where the line of ``position`` was, for messages."""
        return f"{self.url}#{position[RECORD]}" if RECORD in position else self.url

    def reject_record(self, position: Position, reason: str, raw: bytes) -> bytes:
        return rejection_record(self.describe(position), None, reason, raw)

    def lag(self) -> Lag | None:
        """Records not yet released, over every partition (with the partitions' own)."""
        parts = self.partition_lag()
        if parts is None:
            return None
        return Lag(sum(parts.values()), "records", tuple((str(p), n) for p, n in parts.items()))

    def partition_lag(self) -> dict[int, int] | None:
        """Each partition's records past the next one to release (from the client's last
        fetch: no request is made), None until every partition's end is known."""
        topic, lag = self.target.topic, {}
        for partition in self.partitions:
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(topic, partition), cached=True
            )
            if high < 0:
                high = self._ends.get(partition, -1)
            if high < 0:
                return None
            start = self._next.get(partition, OFFSET_BEGINNING)
            lag[partition] = high - start if start >= 0 else high
        return lag

    def position_text(self, position: Position | None) -> str:
        """A position in words: the next offset of every partition."""
        if not position:
            return "the start of the topic"
        offsets = sorted((int(p), int(o)) for p, o in position.items() if p != RECORD)
        return ", ".join(f"partition {p} at {max(o, 0):,}" for p, o in offsets)

    def close(self) -> None:
        self._consumer.close()
