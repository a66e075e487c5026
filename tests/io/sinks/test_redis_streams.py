"""The Redis sink against a real redis-server: one entry per record, never twice."""

from __future__ import annotations

import redis

from netflag.devtools.servers import RedisServer
from netflag.io.sinks.redis_streams import RedisSink, entry_fields

FLAG = b'{"event_type":"purchase", "id": "2", "amount": 12.50, "mean": "1.00", "sd": "0.50"}\n'


def lines(server: RedisServer, stream: str = "flags") -> list[bytes]:
    return [f[b"line"] for _, f in redis.Redis(port=server.port).xrange(stream)]


def test_entries_carry_the_fields_the_line_and_the_record_number(redis_server) -> None:
    sink = RedisSink(redis_server.url("flags"))
    sink.resume(None, "r1")
    sink.write(1, FLAG)
    position = sink.flush()
    [(entry_id, fields)] = redis.Redis(port=redis_server.port).xrange("flags")
    assert position == {"id": entry_id.decode(), "count": 1}
    assert fields == {
        b"event_type": b"purchase", b"id": b"2", b"amount": b"12.50", b"mean": b"1.00",
        b"sd": b"0.50", b"line": FLAG.rstrip(b"\n"), b"n": b"1", b"run": b"r1",
    }  # fmt: skip
    sink.close()


def test_a_resume_skips_records_written_after_the_checkpoint(redis_server) -> None:
    r = redis.Redis(port=redis_server.port)
    r.xadd("flags", {"line": b"from someone else"})
    sink = RedisSink(redis_server.url("flags"))
    sink.resume(None, "r1")
    sink.write(1, b'{"a": 1}\n')
    checkpoint = sink.flush()
    sink.write(2, b'{"a": 2}\n')
    sink.push()  # written, then the process "crashes" before its next checkpoint
    sink.close()
    r.xadd("flags", {"line": b"another writer", "n": b"9", "run": b"other-run"})
    again = RedisSink(redis_server.url("flags"))
    again.resume(checkpoint, "r1")
    for n in (1, 2, 3):
        again.write(n, b'{"a": %d}\n' % n)
    assert again.flush()["count"] == 3
    again.close()
    assert lines(redis_server) == [
        b"from someone else", b'{"a": 1}', b'{"a": 2}', b"another writer", b'{"a": 3}',
    ]  # fmt: skip


def test_survives_a_redis_restart_without_doubling(redis_server) -> None:
    sink = RedisSink(redis_server.url("flags"))
    sink.resume(None, "r1")
    sink.write(1, b'{"a": 1}\n')
    sink.flush()
    redis_server.restart(down_seconds=0.2)
    sink.write(2, b'{"a": 2}\n')
    sink.flush()
    sink.close()
    assert lines(redis_server) == [b'{"a": 1}', b'{"a": 2}']


def test_entry_fields_take_any_line_that_passed_the_parser() -> None:
    """Integers beyond 64 bits, which orjson cannot write, are no crash: fields keep their text."""
    big = "1" * 30
    line = b'{"id": "2", "amount": 1.5, "x": %s, "y": [%s], "z": %s}\n' % (
        big.encode(),
        big.encode(),
        b"9" * 5_000,
    )
    fields = entry_fields(line, 1, "r1")
    assert (fields["x"], fields["z"]) == (big.encode(), b"9" * 5_000)
    assert fields["line"] == line.rstrip(b"\n")
