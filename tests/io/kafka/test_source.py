"""The Kafka source against a real broker: order, resume, the group's owner, one-line errors."""

from __future__ import annotations

import heapq
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from netflag.devtools.kafka import KafkaBroker
from netflag.errors import InputError
from netflag.io import kafka_client
from netflag.io.producers.kafka import produce
from netflag.io.sources.kafka import KafkaSource, timestamp_of

PURCHASE = (
    '{"event_type":"purchase", "timestamp":"2017-06-13 11:33:%02d", "id": "%d", "amount": "5"}'
)


def write_log(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def drain(
    source: KafkaSource, count: int, per_poll: int | None = None, seconds: float = 60.0
) -> list[tuple[dict, bytes]]:
    """``count`` lines, asked ``per_poll`` at a time (None: all that are left)."""
    got: list[tuple[dict, bytes]] = []
    deadline = time.monotonic() + seconds
    while len(got) < count and time.monotonic() < deadline:
        got += source.poll(0.2, per_poll or count - len(got))
    return got


def partitions_by_heads(broker: KafkaBroker, topic: str, partitions: int) -> list[bytes]:
    """The documented order, computed independently: read each partition whole, then take
    the smallest (timestamp, partition, offset) head again and again (heapq.merge)."""
    reader = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "oracle",
                       "enable.partition.eof": True})  # fmt: skip
    reader.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    rows: list[list[tuple[int, int, int, bytes]]] = [[] for _ in range(partitions)]
    ended: set[int] = set()
    while len(ended) < partitions:
        for message in reader.consume(500, 1.0):
            if message.error() is not None:
                ended.add(message.partition())
                continue
            value = message.value()
            rows[message.partition()].append(
                (timestamp_of(value), message.partition(), message.offset(), value)
            )
    reader.close()
    return [row[3] for row in heapq.merge(*rows)]


def test_one_partition_is_read_in_offset_order(kafka_topic, tmp_path: Path) -> None:
    url = kafka_topic(1)
    lines = [PURCHASE % (59 - n, n) for n in range(30)]  # timestamps run backwards
    produce(write_log(tmp_path / "s.json", lines), url)
    source = KafkaSource(url)
    source.resume(None)
    assert [raw.decode() for _, raw in drain(source, 30)] == lines
    source.close()


def test_many_partitions_merge_by_timestamp_partition_offset(
    kafka_broker: KafkaBroker, kafka_topic, tmp_path: Path
) -> None:
    url = kafka_topic(3, idle="0.2")
    lines = [PURCHASE % (n % 7, n) for n in range(200)] + ["not json", "{}"]
    produce(write_log(tmp_path / "s.json", lines), url)
    source = KafkaSource(url)
    source.resume(None)
    got = [raw for _, raw in drain(source, len(lines))]
    source.close()
    topic = url.split("/")[3].split("?")[0]
    assert got == partitions_by_heads(kafka_broker, topic, 3)
    assert sorted(got) == sorted(line.encode() for line in lines)


class WaitRecorder:
    """The source's consumer, counting the calls that waited while the merge could
    already release a line."""

    def __init__(self, source: KafkaSource) -> None:
        self.source, self.consumer, self.needless_waits = source, source._consumer, 0

    def consume(self, count: int, timeout: float) -> list:
        merge = self.source._merge
        releasable = bool(merge._heads) and merge._all_heard(time.monotonic(), self.source._at_end)
        self.needless_waits += timeout > 0 and releasable
        return self.consumer.consume(count, timeout)

    def __getattr__(self, name: str):
        return getattr(self.consumer, name)


def test_a_backlog_is_handed_over_without_waiting(kafka_topic, tmp_path: Path) -> None:
    """Lines the merge may release go out at once: the client is not waited on meanwhile."""
    url = kafka_topic(3, idle="0")
    lines = [PURCHASE % (n % 60, n) for n in range(5_000)]
    produce(write_log(tmp_path / "s.json", lines), url)
    source = KafkaSource(url)
    source.resume(None)
    recorder = WaitRecorder(source)
    source._consumer = recorder
    got = drain(source, len(lines), per_poll=500)  # as live mode asks: less than is buffered
    source.close()
    assert len(got) == len(lines)
    assert recorder.needless_waits == 0


def test_a_resume_continues_exactly_after_the_position(kafka_topic, tmp_path: Path) -> None:
    url = kafka_topic(3, idle="0.2")
    lines = [PURCHASE % (n % 11, n) for n in range(120)]
    produce(write_log(tmp_path / "s.json", lines), url)
    whole = KafkaSource(url)
    whole.resume(None)
    expected = [raw for _, raw in drain(whole, 120)]
    whole.close()
    first = KafkaSource(url)
    first.resume(None)
    head = drain(first, 45)
    first.close()
    rest = KafkaSource(url)
    rest.resume(head[-1][0])
    tail = drain(rest, 75)
    rest.close()
    assert [raw for _, raw in head] + [raw for _, raw in tail] == expected


def test_a_group_another_run_committed_to_is_refused(kafka_topic, tmp_path: Path) -> None:
    url = kafka_topic(1, group="shared")
    produce(write_log(tmp_path / "s.json", [PURCHASE % (1, 1)]), url)
    owner = KafkaSource(url)
    owner.resume(None, "run-a")
    position = drain(owner, 1)[-1][0]
    owner.commit(position)
    owner.close()
    again = KafkaSource(url)
    again.resume(position, "run-a")  # its own run resumes
    again.close()
    other = KafkaSource(url)
    with pytest.raises(InputError, match="already holds offsets of netflag run run-a") as caught:
        other.resume(None, "run-b")
    assert "\n" not in str(caught.value)
    other.close()


def test_a_missing_topic_is_one_line(kafka_broker: KafkaBroker) -> None:
    with pytest.raises(InputError, match="the topic does not exist"):
        KafkaSource(kafka_broker.url("no-such-topic"))


def test_an_unreachable_broker_is_one_line_after_a_bounded_wait(monkeypatch) -> None:
    monkeypatch.setattr(kafka_client, "FIRST_CONNECT_SECONDS", 1.0)
    from netflag.devtools.servers import free_port

    with pytest.raises(InputError, match=r"cannot reach Kafka at 127.0.0.1:\d+ for 1 s"):
        KafkaSource(f"kafka://127.0.0.1:{free_port()}/events")


def test_the_lag_counts_every_partition(kafka_topic, tmp_path: Path) -> None:
    url = kafka_topic(2, idle="0.2")
    produce(write_log(tmp_path / "s.json", [PURCHASE % (n, n) for n in range(40)]), url)
    source = KafkaSource(url)
    source.resume(None)
    drain(source, 10)
    lag = source.partition_lag()
    assert lag is not None and sum(lag.values()) == 30
    drain(source, 30)
    assert source.partition_lag() == {0: 0, 1: 0}
    source.close()
