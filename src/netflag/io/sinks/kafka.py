"""A Kafka topic as a live sink: one message per record, exactly once across crashes.

Each record (a flag line, an action line, a dead letter) is one message: the
value is the exact line (without its line ending), the key the buyer's id
(``id``, or the flagged event's ``id`` for an action; none for a dead letter,
placed by its number instead), and the headers say which run wrote it and its
number (``netflag-run``, ``netflag-n``). The producer is idempotent, so retries
never duplicate a message and each partition holds an unbroken prefix of what
was sent to it.

Exactly once, as the Redis sink does it (see "Live mode: exactly once" in
docs/design.md): a checkpoint stores the last record number made durable.
After a crash live mode decides the lines after the checkpoint again, giving
the same records with the same numbers; :meth:`resume` reads the newest
message of this run in every partition, and :meth:`write` skips each record
that its partition already holds. Readers see every record once, as soon as
it is written: no transaction holds them back until a checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import orjson
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from netflag.io.kafka_client import (
    GIVE_UP_SECONDS,
    Refusals,
    client_config,
    failure,
    flush_all,
    parse_url,
    partition_for,
    partitions_of,
)
from netflag.io.sinks.base import Position

RUN, NUMBER = "netflag-run", "netflag-n"
TAIL_WINDOW = 500  # messages read back per step when looking for this run's newest
TAIL_LIMIT = 100_000  # ...and at most this many per partition (the topic should be netflag's)


def key_of(line: bytes) -> bytes | None:
    """The buyer's id of a flag or action line (None for a dead letter or anything else)."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(value, dict) and isinstance(value.get("flagged"), dict):
        value = value["flagged"]
    user = value.get("id") if isinstance(value, dict) else None
    if isinstance(user, int) and not isinstance(user, bool):
        user = str(user)
    return user.encode() if isinstance(user, str) else None


class KafkaSink:
    """``kafka://HOST:PORT/TOPIC``: records as messages keyed by buyer, exactly once."""

    def __init__(self, url: str, config: Mapping[str, str] | None = None) -> None:
        self.url = url
        self.target = parse_url(url)
        self._config = config
        settings = {"enable.idempotence": True, "acks": "all", "linger.ms": 5}
        self._refusals = Refusals(url)
        self._producer = Producer(client_config(self.target, config, self._refusals, **settings))
        self.partitions = partitions_of(self._producer, self.target, self._refusals)
        self._run = ""
        self._written = 0  # the last record number sent
        self._held: dict[int, int] = {}  # partition -> newest number of this run it holds
        self._failure: KafkaError | None = None

    def resume(self, position: Position | None, run: str) -> None:
        """Continue after ``position``; after a crash, learn what each partition holds."""
        self._run = run
        self._written = int(position["n"]) if position else 0
        self._held = {} if position is None else self._newest_of_run(run)

    def _newest_of_run(self, run: str) -> dict[int, int]:
        """Per partition, the number of the newest message this run wrote (read back)."""
        settings = {"group.id": "netflag-sink-resume", "enable.auto.commit": False}
        reader = Consumer(client_config(self.target, self._config, None, **settings))
        held: dict[int, int] = {}
        try:
            for partition in self.partitions:
                part = TopicPartition(self.target.topic, partition)
                low, high = reader.get_watermark_offsets(part, timeout=10.0)
                end = high
                while end > low and high - end < TAIL_LIMIT and partition not in held:
                    start = max(low, end - TAIL_WINDOW)
                    for number, found_run in self._read(reader, partition, start, end):
                        if found_run == run:
                            held[partition] = max(held.get(partition, 0), number)
                    end = start
        except KafkaException as exception:
            raise failure(self.url, exception.args[0]) from None
        finally:
            reader.close()
        return held

    def _read(
        self, reader: Consumer, partition: int, start: int, end: int
    ) -> list[tuple[int, str]]:
        """``(number, run)`` of the messages ``start .. end - 1`` of a partition."""
        reader.assign([TopicPartition(self.target.topic, partition, start)])
        found: list[tuple[int, str]] = []
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while start < end and time.monotonic() < deadline:
            for message in reader.consume(TAIL_WINDOW, 1.0):
                offset = message.offset()
                if message.error() is not None or offset is None:
                    continue
                start = offset + 1
                headers = dict(message.headers() or [])
                number, run = headers.get(NUMBER), headers.get(RUN)
                if number is not None and run is not None:
                    text = run.decode() if isinstance(run, bytes) else run
                    found.append((int(number), text))
        return found

    def write(self, number: int, line: bytes) -> None:
        """Send record ``number`` unless its partition already holds it."""
        self._raise_failure()
        key = key_of(line)
        partition = partition_for(
            key if key is not None else str(number).encode(), len(self.partitions)
        )
        self._written = number
        if number <= self._held.get(partition, 0):
            return
        headers: list[tuple[str, str | bytes | None]] = [(RUN, self._run), (NUMBER, str(number))]
        while True:
            try:
                self._producer.produce(
                    self.target.topic,
                    value=line.rstrip(b"\n"),
                    key=key,
                    partition=partition,
                    headers=headers,
                    on_delivery=self._delivered,
                )
                return
            except BufferError:  # the client's queue is full: let it send
                self._producer.poll(0.1)

    def _delivered(self, error: KafkaError | None, _message: object) -> None:
        if error is not None and self._failure is None:
            self._failure = error

    def _raise_failure(self) -> None:
        self._refusals.check()
        if self._failure is not None:
            raise failure(self.url, self._failure)

    def push(self) -> None:
        """Serve delivery reports; the client sends on its own."""
        self._producer.poll(0)
        self._raise_failure()

    def flush(self) -> Position:
        """Wait until every record is acknowledged by the brokers (retried by the client)."""
        flush_all(self._producer, self.url, self._raise_failure, "records")
        return {"n": self._written}

    def close(self) -> None:
        self._producer.flush(5.0)
