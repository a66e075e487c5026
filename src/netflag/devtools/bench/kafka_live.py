"""Live mode from a Kafka topic to a Kafka topic, against a real broker: rate and latency.

``python -m netflag.devtools.bench.kafka_live DATA [RATE] [EVERY]`` starts a
broker on loopback (:class:`~netflag.devtools.kafka.KafkaBroker`) and, on the
``batch_log.json`` and ``stream_log.json`` of the folder DATA
(``netflag generate``), measures:

- **throughput**: the stream pushed into a 3-partition topic first (``netflag
  produce``'s producer, keyed by user), then live mode, resumed from the
  snapshot its batch load wrote, drains it into a file sink and a Kafka sink,
  checkpointing every EVERY lines (10,000). The topic is full before the clock
  starts, so ``idle=0`` changes nothing in the order and the time has no
  idle wait at the end in it.
- **latency**: ``netflag live`` in a process of its own, reading a second
  3-partition topic (the default idle timeout) into a Kafka sink, while this
  process sends the stream's first 20 s at RATE events a second (2,000) and a
  ``read_committed`` reader of the flags topic times each flag from the moment
  its purchase was sent. The first 3 s of sends are a warm-up and left out.
  For the floor, the same sends are then timed through Kafka alone: into a
  topic and straight back out to the same kind of reader (``kafka_hop``); a
  flag takes two such hops, one into netflag and one out.

It prints one JSON object. The broker, the live process and this one share
the machine's cores.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, Producer

from netflag.devtools.kafka import KafkaBroker
from netflag.io.producers.kafka import produce, user_key

PARTITIONS = 3
WARM_UP_SECONDS = 3.0
PACED_SECONDS = 20.0  # how long the latency run sends for


def throughput(broker: KafkaBroker, batch: Path, stream: Path, work: Path, every: int) -> Any:
    """Drain a full topic through live mode; events a second, batch load not included."""
    from netflag.io.sinks import open_sink
    from netflag.io.sources import open_source
    from netflag.modes.live import Live, LiveOptions, LiveOutputs

    broker.create_topic("events", PARTITIONS)
    broker.create_topic("flags", PARTITIONS)
    events = produce(stream, broker.url("events"))

    def live() -> Live:
        sinks = [open_sink(f"file:{work / 'flags.json'}"), open_sink(broker.url("flags"))]
        options = LiveOptions(state=work / "state", checkpoint_every=every)
        return Live(batch, open_source(broker.url("events", idle="0")), LiveOutputs(sinks), options)

    loaded = live().run(max_events=0)
    started = time.monotonic()
    summary = live().run(max_events=events)
    seconds = time.monotonic() - started
    return {
        "events": summary.handled,
        "flagged": summary.flagged,
        "seconds": round(seconds, 3),
        "events_per_s": round(summary.handled / seconds),
        "checkpoints": summary.checkpoints,
        "batch_load_s": round(loaded.seconds, 2),
    }


def purchase_key(value: dict[str, Any]) -> tuple[str, str, Decimal]:
    """What names one purchase in both the stream and the flags it makes."""
    return (str(value["id"]), str(value["timestamp"]), Decimal(str(value["amount"])))


def latency(broker: KafkaBroker, batch: Path, stream: Path, work: Path, rate: float) -> Any:
    """Send the stream at ``rate`` a second into a running ``netflag live``; time each flag,
    and, for the floor, the same sends read straight back from a topic of their own."""
    lines = [line for line in stream.read_bytes().splitlines() if line.strip()]
    lines = lines[: int(rate * PACED_SECONDS)]
    for topic in ("paced", "paced-flags", "hop"):
        broker.create_topic(topic, PARTITIONS)
    base = [sys.executable, "-m", "netflag", "live", str(batch), broker.url("paced")]
    base += ["--sink", broker.url("paced-flags"), "--state", str(work / "paced"), "-q"]
    subprocess.run([*base, "--max-events", "0"], check=True)  # the batch load, once
    live = subprocess.Popen([*base, "--max-events", str(len(lines))])
    flags = time_paced(broker, lines, rate, "paced", "paced-flags", lambda: live.wait(120))
    hop = time_paced(broker, lines, rate, "hop", "hop", lambda: None)
    return {
        "rate": rate,
        "events": len(lines),
        "flag": flags,
        "kafka_hop": hop,
        "live_exit": live.returncode,
    }


def time_paced(
    broker: KafkaBroker,
    lines: list[bytes],
    rate: float,
    into: str,
    read_from: str,
    wait: Callable[[], object],
) -> dict[str, Any]:
    """Send ``lines`` into ``into`` at ``rate`` a second; time each purchase's record in
    ``read_from`` (a flag, or the purchase itself) from its send, after the warm-up."""
    sent: dict[tuple[str, str, Decimal], float] = {}
    seen: list[float] = []
    done = threading.Event()

    def read() -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": broker.bootstrap,
                "group.id": f"bench-{read_from}",
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 10,
            }
        )
        consumer.subscribe([read_from])
        while not done.is_set():
            for message in consumer.consume(500, 0.1):
                value = message.value()
                if message.error() is None and value is not None:
                    arrived, record = time.monotonic(), orjson.loads(value)
                    if record.get("event_type") != "purchase":
                        continue
                    at = sent.pop(purchase_key(record), None)
                    if at is not None:
                        seen.append(arrived - at)
        consumer.close()

    reader = threading.Thread(target=read)
    reader.start()
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 1})
    started = time.monotonic()
    for n, line in enumerate(lines):
        while time.monotonic() < started + n / rate:
            time.sleep(0.001)
        now = time.monotonic()
        value = orjson.loads(line)
        if now - started >= WARM_UP_SECONDS and value.get("event_type") == "purchase":
            sent[purchase_key(value)] = now
        producer.produce(into, key=user_key(line), value=line)
        producer.poll(0)
    producer.flush(30)
    wait()
    time.sleep(2.0)
    done.set()
    reader.join()
    seen.sort()
    return {
        "timed": len(seen),
        "p50_ms": round(statistics.median(seen) * 1000, 1) if seen else None,
        "p99_ms": round(seen[int(len(seen) * 0.99)] * 1000, 1) if seen else None,
    }


def main(argv: list[str]) -> int:
    data = Path(argv[0])
    rate = float(argv[1]) if len(argv) > 1 else 2000.0
    every = int(argv[2]) if len(argv) > 2 else 10_000
    batch, stream = data / "batch_log.json", data / "stream_log.json"
    with tempfile.TemporaryDirectory() as folder, KafkaBroker(Path(folder) / "kafka") as broker:
        work = Path(folder)
        result = {
            "throughput": throughput(broker, batch, stream, work, every),
            "latency": latency(broker, batch, stream, work, rate),
        }
    print(orjson.dumps(result).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
