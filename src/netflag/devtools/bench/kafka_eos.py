"""Two ways to make a Kafka-to-Kafka checkpoint exactly once, measured side by side.

``python -m netflag.devtools.bench.kafka_eos [EVENTS] [EVERY] [RATE]`` starts a
broker, fills a 3-partition topic with EVENTS records, then reads it back (at
RATE records a second, 0 for as fast as it goes) and writes one output record
per 50 inputs (about netflag's flag rate on the medium preset), checkpointing
every EVERY records, once per way:

- ``idempotent``: an idempotent producer; a checkpoint flushes it (every record
  acknowledged) and commits the consumed offsets. After a crash netflag decides
  the same lines again and skips the records each partition already holds, so
  nothing is held back: a reader sees a record as soon as it is acknowledged.
- ``transactions``: consume-transform-produce as Kafka Streams does it: each
  checkpoint is one transaction carrying its records and the consumed offsets
  (``send_offsets_to_transaction``); ``read_committed`` readers see a record
  only when its checkpoint commits.

It prints one JSON object: records a second for each way, the time a
checkpoint takes (median), and how long a ``read_committed`` reader waits for
an output record after it is produced (p50, p99). The engine's own work is the
same either way and is left out: this is the price of the protocol alone.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from netflag.devtools.kafka import KafkaBroker

PARTITIONS = 3
OUTPUT_EVERY = 50  # one output record per this many inputs


def _fill(broker: KafkaBroker, topic: str, events: int) -> None:
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20})
    for n in range(events):
        while True:
            try:
                producer.produce(topic, key=str(n % 997).encode(), value=b"x" * 100)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(60)


def _reader(
    broker: KafkaBroker,
    topic: str,
    sent: dict[bytes, float],
    seen: list[float],
    stop: threading.Event,
) -> None:
    """A read_committed reader of the output: the wait from produce to visibility."""
    reader = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": f"r-{topic}",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )
    reader.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    while not stop.is_set():
        for message in reader.consume(500, 0.1):
            value = message.value()
            if message.error() is None and isinstance(value, bytes) and value in sent:
                seen.append(time.monotonic() - sent[value])
    reader.close()


def run(broker: KafkaBroker, source: str, way: str, every: int, rate: float) -> dict[str, Any]:
    output = f"out-{way}"
    broker.create_topic(output, PARTITIONS)
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": f"g-{way}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    settings: dict[str, Any] = {"bootstrap.servers": broker.bootstrap, "linger.ms": 5}
    if way == "transactions":
        settings["transactional.id"] = f"netflag-{way}"
    else:
        settings["enable.idempotence"] = True
    producer = Producer(settings)
    if way == "transactions":
        producer.init_transactions(30)
        producer.begin_transaction()
    consumer.assign([TopicPartition(source, p, 0) for p in range(PARTITIONS)])
    sent: dict[bytes, float] = {}
    seen: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_reader, args=(broker, output, sent, seen, stop))
    watcher.start()
    offsets: dict[int, int] = {}
    checkpoints: list[float] = []
    ended: set[int] = set()
    taken = since = 0
    started = time.monotonic()

    def checkpoint() -> None:
        began = time.monotonic()
        parts = [TopicPartition(source, p, o + 1) for p, o in offsets.items()]
        if way == "transactions":
            producer.send_offsets_to_transaction(parts, consumer.consumer_group_metadata(), 30)
            producer.commit_transaction(30)
            producer.begin_transaction()
        else:
            producer.flush(30)
            consumer.commit(offsets=parts, asynchronous=False)
        checkpoints.append(time.monotonic() - began)

    while len(ended) < PARTITIONS:
        for message in consumer.consume(500, 0.5):
            partition, offset = message.partition(), message.offset()
            if partition is None or offset is None:
                continue
            if message.error() is not None:
                ended.add(partition)
                continue
            offsets[partition] = offset
            taken += 1
            since += 1
            if taken % OUTPUT_EVERY == 0:
                value = b"flag %d" % taken
                sent[value] = time.monotonic()
                producer.produce(output, key=message.key(), value=value)
            if since >= every:
                checkpoint()
                since = 0
            if rate > 0 and (ahead := started + taken / rate - time.monotonic()) > 0:
                time.sleep(ahead)
        producer.poll(0)
    checkpoint()
    seconds = time.monotonic() - started
    deadline = time.monotonic() + 30
    while len(seen) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    watcher.join()
    consumer.close()
    waits = sorted(seen)
    return {
        "records_per_s": round(taken / seconds),
        "checkpoint_ms": round(statistics.median(checkpoints) * 1000, 1),
        "visible_p50_ms": round(waits[len(waits) // 2] * 1000, 1) if waits else None,
        "visible_p99_ms": round(waits[int(len(waits) * 0.99)] * 1000, 1) if waits else None,
        "outputs": len(sent),
    }


def main(argv: list[str]) -> None:
    events = int(argv[0]) if argv else 200_000
    every = int(argv[1]) if len(argv) > 1 else 10_000
    rate = float(argv[2]) if len(argv) > 2 else 0.0
    with tempfile.TemporaryDirectory() as folder, KafkaBroker(Path(folder)) as broker:
        broker.create_topic("events", PARTITIONS)
        _fill(broker, "events", events)
        result = {
            way: run(broker, "events", way, every, rate) for way in ("idempotent", "transactions")
        }
    print({"events": events, "checkpoint_every": every, "rate": rate, **result})


if __name__ == "__main__":
    main(sys.argv[1:])
