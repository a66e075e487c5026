"""Live mode on a real Kafka broker: replay's bytes, SIGKILLs and a broker restart, auth.

The expected flags are always ``netflag replay`` of the topic's events in the
documented order (:mod:`netflag.io.sources.merge`), computed here on its own:
each partition read whole, then merged by (timestamp, partition, offset).
"""

from __future__ import annotations

import heapq
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Consumer, TopicPartition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netflag.devtools.kafka import KafkaBroker
from netflag.io.producers.kafka import user_key
from netflag.io.sinks import ListSink
from netflag.io.sources.kafka import KafkaSource, timestamp_of
from netflag.modes.live import Live, LiveOptions, LiveOutputs, LiveStatus
from tests.modes.live.runs import NETFLAG, checkpointed_since, finish, live_args, reasons, spawn


def topic_of(url: str) -> str:
    return url.split("/")[3].split("?")[0]


def read_topic(broker: KafkaBroker, topic: str) -> list[list[tuple[bytes | None, bytes]]]:
    """Every partition's ``(key, value)`` messages in offset order (read_committed)."""
    settings = {"bootstrap.servers": broker.bootstrap, "group.id": f"check-{topic}",
                "enable.partition.eof": True, "isolation.level": "read_committed"}  # fmt: skip
    reader = Consumer(settings)
    count = len(reader.list_topics(topic, timeout=10).topics[topic].partitions)
    reader.assign([TopicPartition(topic, p, 0) for p in range(count)])
    rows: list[list[tuple[bytes | None, bytes]]] = [[] for _ in range(count)]
    ended: set[int] = set()
    deadline = time.monotonic() + 60
    while len(ended) < count and time.monotonic() < deadline:
        for message in reader.consume(500, 0.5):
            partition = message.partition()
            if message.error() is not None:
                ended.add(partition)
            else:
                ended.discard(partition)
                rows[partition].append((message.key(), message.value()))
    reader.close()
    return rows


def documented_order(broker: KafkaBroker, topic: str) -> list[bytes]:
    """The topic's lines merged by (timestamp, partition, offset), as the docs define it."""
    heads = [
        [(timestamp_of(value), p, offset, value) for offset, (_, value) in enumerate(row)]
        for p, row in enumerate(read_topic(broker, topic))
    ]
    return [value + b"\n" for *_, value in heapq.merge(*heads)]


def replayed(batch: Path, lines: list[bytes], work: Path) -> tuple[bytes, bytes]:
    """Replay's flags and rejects for ``lines`` in this order."""
    stream, out, rejects = work / "merged.json", work / "replayed.json", work / "rejects.json"
    stream.write_bytes(b"".join(lines))
    command = [*NETFLAG, "replay", batch, stream, out, "--rejects", rejects, "-q"]
    subprocess.run(command, check=True)
    return out.read_bytes(), rejects.read_bytes()


def flag_messages(broker: KafkaBroker, topic: str) -> list[tuple[bytes | None, bytes]]:
    """The flags topic's messages, in the order the flags were written (their numbers)."""
    return [message for row in read_topic(broker, topic) for message in row]


def check_flags_topic(broker: KafkaBroker, topic: str, expected: bytes) -> None:
    """Every flag once, keyed by its buyer, value the exact line; in each partition in order."""
    messages = flag_messages(broker, topic)
    lines = expected.splitlines()
    assert sorted(value for _, value in messages) == sorted(lines)
    for key, value in messages:
        assert key == orjson.loads(value)["id"].encode()
    for row in read_topic(broker, topic):
        values = [value for _, value in row]
        assert values == [line for line in lines if line in set(values)]


def test_one_partition_gives_replays_bytes(logs, kafka_broker, kafka_topic, tmp_path) -> None:
    events, flags = kafka_topic(1, idle="1"), kafka_topic(3)
    subprocess.run([*NETFLAG, "produce", logs["stream"], events, "--rate", "0", "-q"], check=True)
    args = live_args(logs, events, tmp_path, "--sink", flags)
    finish(args, idle=3)
    assert (tmp_path / "flags.json").read_bytes() == logs["flags"]
    assert reasons((tmp_path / "rejects.json").read_bytes()) == reasons(logs["rejects"])
    check_flags_topic(kafka_broker, topic_of(flags), logs["flags"])


def test_sigkill_ten_times_and_a_broker_restart_write_each_flag_once(
    logs, kafka_broker: KafkaBroker, kafka_topic, tmp_path: Path
) -> None:
    """3 partitions keyed by user, fed at 500 events/s by ``netflag produce`` while live
    mode is SIGKILLed 10 times at random moments and the broker restarts once."""
    events, flags = kafka_topic(3, idle="2"), kafka_topic(3)
    feeder = subprocess.Popen(
        [*NETFLAG, "produce", logs["stream"], events, "--rate", "500", "-q"],
        stderr=subprocess.PIPE,
    )
    args = live_args(logs, events, tmp_path, "--sink", flags)
    rng, log = random.Random(3), tmp_path / "state" / "log"
    for kill in range(10):
        spawned = time.time_ns()
        process = spawn(*args)
        if kill % 4 == 1:
            time.sleep(rng.uniform(0.0, 0.5))  # during startup
        else:
            deadline = time.monotonic() + 60
            while not checkpointed_since(log, spawned):
                assert time.monotonic() < deadline and process.poll() is None, process.stderr
                time.sleep(0.01)
            if kill == 5:
                kafka_broker.restart(down_seconds=1.0)  # while live mode and produce run
            time.sleep(rng.uniform(0.0, 0.6))
        assert process.poll() is None, process.communicate()[1]
        process.send_signal(signal.SIGKILL)
        process.communicate()
    _, fed = feeder.communicate(timeout=120)
    assert feeder.returncode == 0, fed
    finish(args, idle=5)
    expected, rejects = replayed(logs["batch"], documented_order(kafka_broker, topic_of(events)),
                                 tmp_path)  # fmt: skip
    assert expected.count(b"\n") > 30
    assert (tmp_path / "flags.json").read_bytes() == expected
    assert reasons((tmp_path / "rejects.json").read_bytes()) == reasons(rejects)
    check_flags_topic(kafka_broker, topic_of(flags), expected)


def produce_interleaved(broker: KafkaBroker, topic: str, lines: list[bytes], order: list[int],
                        pauses: list[float]) -> None:  # fmt: skip
    """Send each partition's lines in their own order, the partitions interleaved by ``order``
    (a partition number per line), pausing as told: one way a topic's content may arrive."""
    from confluent_kafka import Producer

    from netflag.io.kafka_client import partition_for

    by_partition: list[list[bytes]] = [[], [], []]
    for line in lines:
        key = user_key(line.rstrip(b"\n"))
        by_partition[partition_for(key or b"", 3)].append(line.rstrip(b"\n"))
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True})
    for step, partition in enumerate(order):
        if by_partition[partition]:
            producer.produce(topic, by_partition[partition].pop(0), partition=partition)
            producer.poll(0)
            time.sleep(pauses[step % len(pauses)])
    for partition, rest in enumerate(by_partition):
        for value in rest:
            producer.produce(topic, value, partition=partition)
    producer.flush(30)


# kafka_topic makes a new topic on each call: each example gets its own, as it should.
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    order=st.lists(st.integers(0, 2), min_size=300, max_size=300),
    pauses=st.lists(st.sampled_from([0.0, 0.0, 0.0, 0.002, 0.02]), min_size=1, max_size=20),
)
def test_the_same_content_arriving_interleaved_differently_gives_the_same_flags(
    small_kafka_log, kafka_broker: KafkaBroker, kafka_topic, order, pauses
) -> None:
    """Live mode reads while the topic fills, the partitions' messages interleaved and
    paced at random: the flags are those of the documented order, every time."""
    batch, lines, expected = small_kafka_log
    url = kafka_topic(3, idle="2")
    flags = ListSink()
    source = KafkaSource(url)
    writer = threading.Thread(
        target=produce_interleaved,
        args=(kafka_broker, topic_of(url), lines, order, pauses),
    )
    writer.start()
    Live(batch, source, LiveOutputs([flags])).run(max_events=len(lines))
    writer.join()
    assert b"".join(flags.lines) == expected


@pytest.fixture(scope="module")
def small_kafka_log(logs, kafka_broker: KafkaBroker, tmp_path_factory):
    """The first 600 lines of the live log, and replay's flags of them in the documented
    order (the same for any interleaving: each partition's content is fixed by its keys)."""
    from netflag.io.producers.kafka import produce

    work = tmp_path_factory.mktemp("kafka-order")
    lines = logs["lines"][:600]
    (work / "part.json").write_bytes(b"".join(lines))
    name = "order-oracle"
    kafka_broker.create_topic(name, 3)
    produce(work / "part.json", kafka_broker.url(name))
    expected, _ = replayed(logs["batch"], documented_order(kafka_broker, name), work)
    assert expected.count(b"\n") >= 3
    return logs["batch"], lines, expected


def test_lag_per_partition_is_in_the_status(logs, kafka_topic, tmp_path: Path) -> None:
    url = kafka_topic(3, idle="1")
    subprocess.run([*NETFLAG, "produce", logs["stream"], url, "--rate", "0", "-q"], check=True)
    statuses: list[LiveStatus] = []
    options = LiveOptions(on_status=statuses.append, status_seconds=0.0)
    Live(logs["batch"], KafkaSource(url), LiveOutputs([ListSink()]), options).run(max_events=500)
    lag = statuses[-1].lag
    assert (
        lag is not None
        and lag.unit == "records"
        and [name for name, _ in lag.parts]
        == [
            "0",
            "1",
            "2",
        ]
    )
    assert lag.value == sum(value for _, value in lag.parts) > 0
    assert statuses[-1].fields()["lag_by_partition"] == dict(lag.parts)
    assert "(0: " in str(statuses[-1])


# --- errors and settings, through the CLI --------------------------------------------------


def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NETFLAG, *map(str, args)], capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def one_line_error(done: subprocess.CompletedProcess[str], says: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_kafka_config_settings_are_applied(logs, kafka_broker, tmp_path: Path) -> None:
    """On the SASL listener only --kafka-config's credentials get in: produce, then live."""
    kafka_broker.create_topic("secured", 1)
    url = kafka_broker.url("secured", sasl=True, idle="1")
    config = tmp_path / "client.properties"
    settings = kafka_broker.sasl_settings("admin")
    config.write_text("# the cluster's\n" + "".join(f"{k}={v}\n" for k, v in settings.items()))
    pushed = run_cli("produce", logs["stream"], url, "--rate", "0", "--kafka-config", config)
    assert pushed.returncode == 0, pushed.stderr
    out = tmp_path / "flags.json"
    done = run_cli("live", logs["batch"], url, "--sink", f"file:{out}", "--idle-timeout", "3",
                   "-q", "--kafka-config", config)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == logs["flags"]


def test_authentication_and_authorization_failures_are_one_line(
    logs, kafka_broker, tmp_path: Path
) -> None:
    kafka_broker.create_topic("guarded", 1)
    url = kafka_broker.url("guarded", sasl=True)
    for user, password, says in [
        ("admin", "wrong", "authentication failed"),
        ("reader", None, "not authorized for the topic"),
    ]:
        config = tmp_path / f"{user}.properties"
        settings = kafka_broker.sasl_settings(user, password)
        config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        done = run_cli("live", logs["batch"], url, "-q", "--kafka-config", config)
        one_line_error(done, says)


def test_one_line_errors(logs, kafka_broker, kafka_topic, tmp_path: Path) -> None:
    one_line_error(
        run_cli("live", logs["batch"], kafka_broker.url("missing"), "-q"),
        "the topic does not exist",
    )
    one_line_error(
        run_cli("live", logs["batch"], "kafka://127.0.0.1:1/events", "-q"),
        "cannot reach Kafka at 127.0.0.1:1 for 10 s",
    )
    one_line_error(run_cli("live", logs["batch"], "kafka://host/t", "-q"), "HOST:PORT")
    one_line_error(
        run_cli("live", logs["batch"], logs["stream"], "--kafka-config", tmp_path / "x", "-q"),
        "--kafka-config is for kafka:// sources and sinks",
    )
    owned = tmp_path / "owned.properties"
    owned.write_text("isolation.level=read_uncommitted\n")
    one_line_error(
        run_cli("live", logs["batch"], kafka_broker.url("missing"), "-q", "--kafka-config", owned),
        "--kafka-config sets isolation.level, which netflag sets itself",
    )
    url = kafka_topic(1, idle="0")
    assert run_cli("produce", logs["stream"], url, "--rate", "0").returncode == 0
    first = run_cli("live", logs["batch"], url, "--sink", f"file:{tmp_path / 'a.json'}",
                    "--state", tmp_path / "a", "--idle-timeout", "1", "-q")  # fmt: skip
    assert first.returncode == 0, first.stderr
    second = run_cli("live", logs["batch"], url, "--state", tmp_path / "b", "--idle-timeout", "5",
                     "-q")  # fmt: skip
    one_line_error(second, "consumer group 'netflag' already holds offsets of netflag run")
