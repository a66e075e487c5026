"""What the Kafka source, sink and producer share: URLs, client settings, partitioning, errors.

A Kafka URL is ``kafka://HOST:PORT[,HOST:PORT...]/TOPIC[?group=NAME&idle=SECONDS]``.
Settings a real cluster needs (SASL, TLS) come from ``--kafka-config FILE``
(:mod:`netflag.io.client_settings`), passed through to every client as they
are. librdkafka's own log lines go to the
``netflag.kafka`` logger, never straight to stderr.

Records are placed by key with Kafka's own default partitioner (murmur2 of
the key, as the Java client does), computed here rather than by the client, so
the sink knows where each of its records went and can tell which ones a topic
already holds after a crash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from confluent_kafka import KafkaError, KafkaException

from netflag.errors import InputError

log = logging.getLogger("netflag.kafka")
EXAMPLE = "kafka://HOST:PORT/TOPIC"
DEFAULT_GROUP = "netflag"
DEFAULT_IDLE = 5.0  # seconds a silent partition may hold the merge back
FIRST_CONNECT_SECONDS = 10.0  # a broker that never answered: likely a wrong address
GIVE_UP_SECONDS = 120.0  # a broker that went away: this long, then the run stops
OWNED = frozenset(  # settings a --kafka-config file may not change: exactly once rests on them
    {
        "bootstrap.servers",
        "group.id",
        "isolation.level",
        "enable.auto.commit",
        "enable.auto.offset.store",
        "auto.offset.reset",
        "enable.idempotence",
        "acks",
        "transactional.id",
    }
)
UNREACHABLE = {
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._TRANSPORT,
    KafkaError._TIMED_OUT,
    KafkaError._MSG_TIMED_OUT,
    KafkaError.REQUEST_TIMED_OUT,
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
}
DENIED = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED: "not authorized for the topic",
    KafkaError.GROUP_AUTHORIZATION_FAILED: "not authorized for the consumer group",
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: "not authorized on the cluster",
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "not authorized for the transactional id",
    KafkaError.SASL_AUTHENTICATION_FAILED: "authentication failed",
    KafkaError._AUTHENTICATION: "authentication failed",
}


@dataclass(frozen=True, slots=True)
class KafkaURL:
    """A topic on a cluster, and how to read it."""

    text: str
    bootstrap: str
    topic: str
    group: str = DEFAULT_GROUP
    idle: float | None = DEFAULT_IDLE


def parse_url(text: str) -> KafkaURL:
    """Split a Kafka URL, or say in one line what is wrong with it.

    >>> parse_url("kafka://127.0.0.1:9092/events?group=shop").group
    'shop'
    >>> parse_url("kafka://b1:9092,b2:9092/events?idle=none").idle is None
    True
    """
    parts = urlsplit(text)
    topic = unquote(parts.path[1:])
    if parts.scheme != "kafka" or not parts.netloc or not topic or "/" in topic:
        raise InputError(f"{text}: expected {EXAMPLE}")
    for broker in parts.netloc.split(","):
        host, _, port = broker.rpartition(":")
        if not host or not port.isdigit():
            raise InputError(f"{text}: each broker must be HOST:PORT, as in {EXAMPLE}")
    pairs = parse_qs(parts.query, keep_blank_values=True)
    query = {key: values[-1] for key, values in pairs.items()}
    unknown = set(query) - {"group", "idle"}
    if unknown:
        raise InputError(f"{text}: unknown option {sorted(unknown)[0]!r} (group, idle)")
    idle: float | None = DEFAULT_IDLE
    if "idle" in query:
        try:
            idle = None if query["idle"] == "none" else float(query["idle"])
        except ValueError:
            idle = -1.0
        if idle is not None and not idle >= 0:
            raise InputError(f"{text}: idle must be a number of seconds >= 0, or none")
    group = query.get("group", DEFAULT_GROUP)
    if not group:
        raise InputError(f"{text}: group must not be empty")
    return KafkaURL(text, parts.netloc, topic, group, idle)


class _ClientLog:
    """librdkafka's own log lines, at debug level: each trouble it reports (a broker
    down, a retry) is said once, in netflag's words, by the code that waits for it."""

    def log(self, level: int, message: str, *args: Any) -> None:
        log.debug(message, *args)


class Refusals:
    """A client's error callback: keeps the first error no retry can mend.

    A wrong password or a refused SASL handshake reaches librdkafka's error
    callback only; the request that waits on it just times out, as if the
    broker were down. :meth:`check` turns it into the one-line error instead.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.first: InputError | None = None

    def __call__(self, error: KafkaError) -> None:
        if self.first is None and (error.code() in DENIED or error.fatal()):
            self.first = refusal(self.url, error) or InputError(
                f"{self.url}: Kafka error: {describe(error)}"
            )

    def check(self) -> None:
        if self.first is not None:
            raise self.first


def client_config(
    url: KafkaURL,
    extra: Mapping[str, str] | None = None,
    refusals: Refusals | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """The settings of a client for ``url``: ours, then ``--kafka-config``'s, which win
    except over the ones exactly once rests on; ``refusals`` hears the client's errors."""
    for key in sorted(OWNED.intersection(extra or {})):
        raise InputError(f"--kafka-config sets {key}, which netflag sets itself; remove it")
    config: dict[str, Any] = {
        "bootstrap.servers": url.bootstrap,
        "client.id": "netflag",
        "logger": _ClientLog(),
        **settings,
    }
    if refusals is not None:
        config["error_cb"] = refusals
    config.update(extra or {})
    return config


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (``Utils.murmur2``): what its default partitioner hashes keys with."""
    seed, m, r = 0x9747B28C, 0x5BD1E995, 24
    length = len(data)
    h = (seed ^ length) & 0xFFFFFFFF
    tail = length & ~3
    for i in range(0, tail, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    rest = length & 3
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` among ``partitions``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def describe(error: KafkaError | KafkaException | BaseException) -> str:
    """A client error as a short phrase."""
    if isinstance(error, KafkaException) and error.args:
        error = error.args[0]
    if isinstance(error, KafkaError):
        return error.str() or error.name()
    return " ".join(str(error).split()) or type(error).__name__


def refusal(url: str, error: KafkaError) -> InputError | None:
    """The one-line error for an error no retry can mend (None: it may pass)."""
    code = error.code()
    if code in DENIED:
        return InputError(f"{url}: Kafka refused: {DENIED[code]} ({describe(error)})")
    if code in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
        return InputError(f"{url}: the topic does not exist (create it first)")
    if code in UNREACHABLE or error.retriable():
        return None
    return InputError(f"{url}: Kafka error: {describe(error)}")


def failure(url: str, error: KafkaError) -> InputError:
    """The one-line error that ends a run on ``error``, whether a retry might mend it or not."""
    return refusal(url, error) or InputError(f"{url}: {describe(error)}")


def flush_all(producer: Any, url: str, check: Callable[[], None], what: str) -> None:
    """Wait until the brokers hold everything ``producer`` was given (the client retries),
    calling ``check`` (which raises a failure it heard of) at each turn; up to
    ``GIVE_UP_SECONDS``, then one line saying Kafka did not take ``what``."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while producer.flush(1.0) > 0:
        check()
        if time.monotonic() > deadline:
            raise InputError(f"{url}: Kafka did not take the {what} for {GIVE_UP_SECONDS:g} s")
    check()


def partitions_of(client: Any, url: KafkaURL, refusals: Refusals) -> list[int]:
    """The topic's partitions, waiting for the cluster as the Redis source does for Redis.

    Gives up after ``FIRST_CONNECT_SECONDS`` if no broker ever answered.
    """
    started = time.monotonic()
    while True:
        refusals.check()
        try:
            metadata = client.list_topics(url.topic, timeout=2.0)
        except KafkaException as exception:
            error = exception.args[0]
            refused = refusal(url.text, error)
            if refused is not None:
                raise refused from None
            client.poll(0)  # the error callback is served by poll() only
            refusals.check()
            if time.monotonic() - started > FIRST_CONNECT_SECONDS:
                raise InputError(
                    f"{url.text}: cannot reach Kafka at {url.bootstrap} for"
                    f" {FIRST_CONNECT_SECONDS:g} s: {describe(error)}"
                ) from None
            continue
        topic = metadata.topics.get(url.topic)
        if topic is None:
            raise InputError(f"{url.text}: the topic does not exist (create it first)")
        if topic.error is not None:
            refused = refusal(url.text, topic.error)
            if refused is not None:
                raise refused
            time.sleep(0.2)
            continue
        return sorted(topic.partitions)
