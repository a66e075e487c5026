"""A real Kafka broker for the tests: one for the whole session, and fresh topics per test.

The broker is netflag.devtools.kafka's (Kafka's own jars from Maven Central,
KRaft, loopback): no mock anywhere. It starts once, on the first test that
asks for it (about 2 s), and is killed at the end of the session.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator

import pytest

from netflag.devtools.kafka import KafkaBroker

KAFKA_MISSING = "Kafka's broker needs java and mvn: apt-get install default-jre-headless maven"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """The session's broker. Missing Java or Maven is a failure, not a skip."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.fail(KAFKA_MISSING)
    with KafkaBroker(tmp_path_factory.mktemp("kafka")) as broker:
        yield broker


@pytest.fixture
def kafka_topic(kafka_broker: KafkaBroker) -> Callable[..., str]:
    """``kafka_topic(partitions=1)``: a new topic's netflag URL on the session's broker."""

    def make(partitions: int = 1, **query: str) -> str:
        name = f"t{next(_names)}"
        kafka_broker.create_topic(name, partitions)
        return kafka_broker.url(name, **query)

    return make
