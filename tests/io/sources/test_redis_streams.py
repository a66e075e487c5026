"""The Redis source against a real redis-server: consumer group, acks, pending entries, restarts."""

from __future__ import annotations

import redis

from netflag.devtools.servers import RedisServer
from netflag.io.redis_client import entry_key, parse_url
from netflag.io.sources import Lag
from netflag.io.sources.redis_streams import RedisSource


def client(server: RedisServer) -> redis.Redis:
    return redis.Redis(port=server.port)


def take(source: RedisSource, polls: int = 3, limit: int = 100) -> list[tuple[dict, bytes]]:
    out: list[tuple[dict, bytes]] = []
    for _ in range(polls):
        out += source.poll(0.05, limit)
    return out


def test_reads_in_order_and_acks_only_on_commit(redis_server: RedisServer) -> None:
    r = client(redis_server)
    ids = [r.xadd("ev", {"event": b'{"n": %d}' % i}).decode() for i in range(5)]
    source = RedisSource(redis_server.url("ev"))
    source.resume(None)
    got = take(source)
    assert got == [({"id": i}, b'{"n": %d}' % n) for n, i in enumerate(ids)]
    assert r.xpending("ev", "netflag")["pending"] == 5
    source.commit(got[2][0])
    assert r.xpending("ev", "netflag")["pending"] == 2
    assert source.lag() == Lag(0, "entries")
    assert source.describe(got[0][0]) == f"{redis_server.url('ev')}#{ids[0]}"
    source.close()


def test_a_restart_rereads_everything_after_the_checkpoint(redis_server: RedisServer) -> None:
    """Pending entries (read, never acked) come back; those the checkpoint covers are acked."""
    r = client(redis_server)
    ids = [r.xadd("ev", {"event": b"%d" % i}).decode() for i in range(6)]
    crashed = RedisSource(redis_server.url("ev"))
    crashed.resume(None)
    assert len(take(crashed)) == 6  # then "crashes": no commit at all
    crashed.close()
    restarted = RedisSource(redis_server.url("ev"))
    restarted.resume({"id": ids[2]})  # the checkpoint covered entries 0..2
    assert r.xpending("ev", "netflag")["pending"] == 3  # 0..2 acked at resume
    assert [raw for _, raw in take(restarted)] == [b"3", b"4", b"5"]
    restarted.commit({"id": ids[5]})
    assert r.xpending("ev", "netflag")["pending"] == 0
    restarted.close()


def test_a_fresh_run_reads_the_stream_from_its_start(redis_server: RedisServer) -> None:
    """Even when the group already delivered and acked entries (an old run without state)."""
    r = client(redis_server)
    for i in range(3):
        r.xadd("ev", {"event": b"%d" % i})
    first = RedisSource(redis_server.url("ev?group=g"))
    first.resume(None)
    first.commit(take(first)[-1][0])
    first.close()
    second = RedisSource(redis_server.url("ev?group=g"))
    second.resume(None)
    assert [raw for _, raw in take(second)] == [b"0", b"1", b"2"]
    second.close()


def test_an_entry_without_an_event_field_is_its_fields_as_json(redis_server: RedisServer) -> None:
    client(redis_server).xadd("ev", {"event_type": "purchase", "id": "2", "amount": "9.5"})
    source = RedisSource(redis_server.url("ev"))
    source.resume(None)
    [(position, raw)] = take(source)
    assert raw == b'{"event_type":"purchase","id":"2","amount":"9.5"}'
    record = source.reject_record(position, "why", raw)
    assert record.startswith(b'{"source":"redis://127.0.0.1:') and b'"reason":"why"' in record
    source.close()


def test_survives_a_redis_restart(redis_server: RedisServer) -> None:
    r = client(redis_server)
    r.xadd("ev", {"event": b"before"})
    source = RedisSource(redis_server.url("ev"))
    source.resume(None)
    assert [raw for _, raw in take(source)] == [b"before"]
    redis_server.restart(down_seconds=0.3)
    assert source.poll(0.05, 10) == []  # the connection broke: nothing, no exception
    client(redis_server).xadd("ev", {"event": b"after"})
    got: list[bytes] = []
    for _ in range(100):
        got += [raw for _, raw in source.poll(0.05, 10)]
        if got:
            break
    assert got == [b"after"]  # "before" is not delivered twice
    source.close()


def test_urls_and_entry_ids() -> None:
    url = parse_url("redis://h:7000/a%2Fb?group=g&consumer=c&db=2")
    assert (url.host, url.port, url.stream, url.group, url.consumer, url.db) == (
        "h", 7000, "a/b", "g", "c", 2,
    )  # fmt: skip
    assert parse_url("redis://h/s").port == 6379
    assert entry_key("12-3") < entry_key("12-10") < entry_key(b"13-0")


def test_a_position_in_words_is_its_entry_id() -> None:
    source = RedisSource("redis://127.0.0.1:1/s")  # no command is sent: no server needed
    assert source.position_text({"id": "1700000000-0"}) == "entry 1700000000-0"
    assert source.position_text(None) == "the start of the source"
    source.close()
