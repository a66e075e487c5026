"""Push an event log into a Kafka topic at a steady rate, keyed by user, as a shop's would be.

Each non-blank line is one message: the value is the line (without its line
ending), the key the event's user (``id`` for a purchase, ``id1`` for a
befriend or unfriend; none for a line that is not an event, placed by its
line number instead), so a topic of many partitions is keyed by user as real
ones are, and Kafka's default partitioner (murmur2) places it. The producer is
idempotent: a broker restart neither loses nor repeats a line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import orjson
from confluent_kafka import KafkaError, Producer

from netflag.io.kafka_client import (
    Refusals,
    client_config,
    failure,
    flush_all,
    parse_url,
    partition_for,
    partitions_of,
)
from netflag.io.reader import numbered_lines

TICK = 0.05  # seconds between sends when there is a rate limit
LINE = "netflag-line"  # header: the line number in the file


def user_key(raw: bytes) -> bytes | None:
    """The user an event line is about: its ``id``, or ``id1`` for a friendship."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    user = value.get("id", value.get("id1"))
    if isinstance(user, int) and not isinstance(user, bool):
        user = str(user)
    return user.encode() if isinstance(user, str) and user else None


def produce(
    stream: Path,
    url: str,
    *,
    rate: float = 0.0,
    config: Mapping[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Send every event line of ``stream`` to the topic of ``url``, ``rate`` a second (0: no
    limit); returns how many were sent, once the brokers have them all."""
    target = parse_url(url)
    refusals = Refusals(url)
    producer = Producer(
        client_config(target, config, refusals, **{"enable.idempotence": True, "linger.ms": 5})
    )
    count = len(partitions_of(producer, target, refusals))
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    started = time.monotonic()
    sent = 0
    for number, raw in numbered_lines(stream):
        line = raw.rstrip(b"\r\n")
        key = user_key(line)
        partition = partition_for(key if key is not None else str(number).encode(), count)
        while True:
            try:
                producer.produce(
                    target.topic,
                    value=line,
                    key=key,
                    partition=partition,
                    headers=[(LINE, str(number).encode())],
                    on_delivery=delivered,
                )
                break
            except BufferError:
                producer.poll(0.1)
        sent += 1
        if failures or refusals.first is not None:
            break
        if rate > 0 and sent % max(1, int(rate * TICK)) == 0:
            producer.poll(0)
            if on_progress is not None:
                on_progress(sent)
            ahead = started + sent / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    def check() -> None:
        refusals.check()
        if failures:
            raise failure(url, failures[0])

    flush_all(producer, url, check, "events")
    if on_progress is not None:
        on_progress(sent)
    return sent
