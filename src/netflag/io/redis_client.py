"""What the Redis source and sink share: URLs, connections, retries with exponential backoff.

A Redis restart must not stop live mode: every command that fails to reach the
server is retried after 0.05 s, 0.1 s, 0.2 s... (at most 2 s apart), and the
caller re-synchronises first (``resync``), because a command whose connection
broke may or may not have been carried out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from netflag.errors import InputError

log = logging.getLogger("netflag.live")
T = TypeVar("T")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
FIRST_DELAY = 0.05
MAX_DELAY = 2.0
GIVE_UP_SECONDS = 120.0  # a blocking command waits this long for Redis, then the run stops
FIRST_CONNECT_SECONDS = 10.0  # ...or this long if Redis never answered: likely a wrong URL


@dataclass(frozen=True, slots=True)
class RedisURL:
    """``redis://HOST:PORT/STREAM?group=G&consumer=C&db=N``; only the stream is required."""

    text: str
    host: str
    port: int
    stream: str
    group: str = "netflag"
    consumer: str = "live"
    db: int = 0


def parse_url(text: str) -> RedisURL:
    """Split a Redis stream URL, or say in one line what is wrong with it."""
    parts = urlsplit(text)
    stream = unquote(parts.path[1:])
    example = "redis://HOST:PORT/STREAM"
    if parts.scheme != "redis" or not stream:
        raise InputError(f"{text}: expected {example}")
    try:
        port = parts.port or 6379
    except ValueError:
        raise InputError(f"{text}: the port must be a number, as in {example}") from None
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"group", "consumer", "db"}
    if unknown:
        raise InputError(f"{text}: unknown option {sorted(unknown)[0]!r} (group, consumer, db)")
    db = query.get("db", "0")
    if not db.isdigit():
        raise InputError(f"{text}: db must be a number")
    return RedisURL(
        text,
        parts.hostname or "localhost",
        port,
        stream,
        query.get("group", "netflag"),
        query.get("consumer", "live"),
        int(db),
    )


def connect(url: RedisURL, *, read_timeout: float = 10.0) -> redis.Redis:
    """A client for ``url`` (no connection is made until the first command).

    redis-py's own retries are off: a blind retry of an XADD whose reply was
    lost would add the entry twice. :func:`retrying` retries after a resync.
    RESP2 is pinned so replies have one shape across redis-py 5 to 8.
    """
    return redis.Redis(
        host=url.host,
        port=url.port,
        db=url.db,
        protocol=2,
        socket_connect_timeout=2.0,
        socket_timeout=read_timeout,
        retry=Retry(NoBackoff(), 0),
    )


def describe(error: BaseException) -> str:
    """A Redis error as a short phrase (redis-py messages can span lines)."""
    return " ".join(str(error).split()) or type(error).__name__


class Backoff:
    """Exponential delays between attempts, reset by the first success."""

    def __init__(self) -> None:
        self.delay = FIRST_DELAY
        self.failing_since: float | None = None
        self.reached = False  # has Redis ever answered?

    def failed(self, url: str, error: BaseException) -> float:
        """Note a failure; returns how long to wait before the next attempt."""
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
            log.warning("%s: Redis unreachable (%s): retrying with backoff", url, describe(error))
        delay, self.delay = self.delay, min(MAX_DELAY, self.delay * 2)
        return delay

    def succeeded(self, url: str) -> None:
        self.reached = True
        if self.failing_since is not None:
            took = time.monotonic() - self.failing_since
            log.warning("%s: reconnected to Redis after %.1f s", url, took)
        self.delay, self.failing_since = FIRST_DELAY, None


def retrying(
    url: RedisURL,
    backoff: Backoff,
    action: Callable[[], T],
    resync: Callable[[], None] | None = None,
) -> T:
    """Run ``action`` until Redis answers; ``resync`` runs before each retry.

    Gives up with an :class:`InputError` after ``GIVE_UP_SECONDS`` without an
    answer (``FIRST_CONNECT_SECONDS`` if Redis never answered at all).
    """
    broken = False
    while True:
        try:
            if broken and resync is not None:
                resync()
            result = action()
        except UNREACHABLE as error:
            broken = True
            delay = backoff.failed(url.text, error)
            since = backoff.failing_since or time.monotonic()
            limit = GIVE_UP_SECONDS if backoff.reached else FIRST_CONNECT_SECONDS
            if time.monotonic() - since > limit:
                raise InputError(
                    f"{url.text}: cannot reach Redis for {limit:g} s: {describe(error)}"
                ) from None
            time.sleep(delay)
            continue
        except ResponseError as error:
            raise InputError(f"{url.text}: Redis refused: {describe(error)}") from None
        except RedisError as error:
            raise InputError(f"{url.text}: {describe(error)}") from None
        backoff.succeeded(url.text)
        return result


def entry_key(entry_id: bytes | str) -> tuple[int, int]:
    """A stream entry id ``"1700000000000-5"`` as a comparable pair."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or "0")
