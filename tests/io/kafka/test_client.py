"""Kafka URLs, the properties file, and the partitioner (no broker needed)."""

from __future__ import annotations

import pytest

from netflag.errors import InputError
from netflag.io.kafka_client import murmur2, parse_url, partition_for


def test_murmur2_matches_kafkas_own_test_vectors() -> None:
    # From Apache Kafka's UtilsTest.testMurmur2 (the Java client's default partitioner).
    vectors = {
        b"21": -973932308,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        b"abc": 479470107,
    }
    for key, expected in vectors.items():
        assert murmur2(key) == expected & 0xFFFFFFFF, key


def test_partition_for_is_the_positive_hash_modulo() -> None:
    assert [partition_for(str(i).encode(), 3) for i in range(6)] == [
        (murmur2(str(i).encode()) & 0x7FFFFFFF) % 3 for i in range(6)
    ]


def test_urls() -> None:
    url = parse_url("kafka://127.0.0.1:9092,b2:9093/shop.events?group=fraud&idle=0.5")
    assert (url.bootstrap, url.topic, url.group, url.idle) == (
        "127.0.0.1:9092,b2:9093", "shop.events", "fraud", 0.5
    )  # fmt: skip
    assert parse_url("kafka://h:1/t").idle == 5.0
    assert parse_url("kafka://h:1/t?idle=none").idle is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("kafka:/h:1/t", "expected kafka://HOST:PORT/TOPIC"),
        ("kafka://h:1/", "expected kafka://HOST:PORT/TOPIC"),
        ("kafka://h/t", "HOST:PORT"),
        ("kafka://h:1/t?grup=x", "unknown option 'grup'"),
        ("kafka://h:1/t?idle=-1", "idle must be"),
        ("kafka://h:1/t?group=", "group must not be empty"),
    ],
)
def test_bad_urls_are_one_line(text: str, says: str) -> None:
    with pytest.raises(InputError, match=says) as caught:
        parse_url(text)
    assert "\n" not in str(caught.value)
