"""The Kafka sink against a real broker: one message per record, exactly once after a crash."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition

from netflag.devtools.kafka import KafkaBroker
from netflag.io.kafka_client import partition_for
from netflag.io.sinks.kafka import NUMBER, RUN, KafkaSink, key_of

FLAG = (
    b'{"event_type":"purchase", "timestamp":"2017-06-13 11:33:02", "id": "%d", "amount": "99",'
    b' "mean": "1.00", "sd": "0.50"}\n'
)


def messages(broker: KafkaBroker, url: str) -> list[tuple[int, bytes | None, bytes, dict]]:
    """Every message of the topic: (partition, key, value, headers)."""
    topic = url.split("/")[3]
    settings = {"bootstrap.servers": broker.bootstrap, "group.id": "check"}
    reader = Consumer({**settings, "enable.partition.eof": True})
    metadata = reader.list_topics(topic, timeout=10)
    partitions = sorted(metadata.topics[topic].partitions)
    reader.assign([TopicPartition(topic, p, 0) for p in partitions])
    found, ended = [], set()
    while len(ended) < len(partitions):
        for message in reader.consume(500, 1.0):
            if message.error() is not None:
                ended.add(message.partition())
                continue
            headers = {k: v.decode() for k, v in message.headers() or []}
            found.append((message.partition(), message.key(), message.value(), headers))
    reader.close()
    return found


def test_each_record_is_one_message_keyed_by_the_buyer(kafka_broker, kafka_topic) -> None:
    url = kafka_topic(3)
    sink = KafkaSink(url)
    sink.resume(None, "r1")
    for n in range(1, 21):
        sink.write(n, FLAG % n)
    assert sink.flush() == {"n": 20}
    sink.close()
    found = messages(kafka_broker, url)
    assert sorted(int(h[NUMBER]) for _, _, _, h in found) == list(range(1, 21))
    for partition, key, value, headers in found:
        n = int(headers[NUMBER])
        assert (key, value, headers[RUN]) == (b"%d" % n, (FLAG % n).rstrip(b"\n"), "r1")
        assert partition == partition_for(key, 3)


def test_a_resume_writes_each_record_once_after_a_crash(kafka_broker, kafka_topic) -> None:
    url = kafka_topic(3)
    crashed = KafkaSink(url)
    crashed.resume(None, "r1")
    for n in range(1, 11):
        crashed.write(n, FLAG % n)
    checkpoint = crashed.flush()  # the checkpoint holds n=10
    for n in range(11, 18):  # written after the checkpoint, then the process dies
        crashed.write(n, FLAG % n)
    crashed._producer.flush(10)
    # ... a restart decides the lines after the checkpoint again: the same records
    again = KafkaSink(url)
    again.resume(checkpoint, "r1")
    for n in range(11, 26):
        again.write(n, FLAG % n)
    assert again.flush() == {"n": 25}
    again.close()
    numbers = [int(h[NUMBER]) for _, _, _, h in messages(kafka_broker, url)]
    assert sorted(numbers) == list(range(1, 26))


def test_another_runs_messages_do_not_count(kafka_broker, kafka_topic) -> None:
    url = kafka_topic(1)
    old = KafkaSink(url)
    old.resume(None, "old")
    for n in range(1, 6):
        old.write(n, FLAG % n)
    old.flush()
    new = KafkaSink(url)
    new.resume({"n": 0}, "new")  # a crash before its first record reached the topic
    for n in range(1, 4):
        new.write(n, FLAG % n)
    new.flush()
    runs = [h[RUN] for _, _, _, h in messages(kafka_broker, url)]
    assert runs == ["old"] * 5 + ["new"] * 3


def test_keys() -> None:
    assert key_of(b'{"id": "7", "amount": "1"}') == b"7"
    assert key_of(b'{"id": 7}') == b"7"
    assert key_of(b'{"flagged": {"id": "u-1"}, "feed": []}') == b"u-1"
    assert key_of(b'{"file": "x", "line": 3, "reason": "no"}') is None
    assert key_of(b"not json") is None
