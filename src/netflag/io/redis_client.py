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
from urllib.parse import parse_qsl, unquote, urlsplit

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
    """``redis://HOST[:PORT]/STREAM?group=G&consumer=C&db=N``: host and stream required."""

    text: str
    host: str
    port: int
    stream: str
    group: str = "netflag"
    consumer: str = "live"
    db: int = 0


def parse_url(text: str) -> RedisURL:
    """Split a Redis stream URL, or say in one line what is wrong with it.

    Nothing is dropped silently: a URL without ``//HOST`` (``redis:/host/s``),
    credentials, a ``#fragment``, an unknown or repeated option is refused.

    >>> url = parse_url("redis://h:7000/a%2Fb?group=g&consumer=c&db=2")
    >>> url.host, url.port, url.stream, url.group, url.consumer, url.db
    ('h', 7000, 'a/b', 'g', 'c', 2)
    """
    example = "redis://HOST[:PORT]/STREAM[?group=G&consumer=C&db=N]"
    parts = urlsplit(text)

    def refuse(problem: str) -> InputError:
        return InputError(f"{text}: {problem}, as in {example}")

    if parts.scheme != "redis" or not text[len("redis:") :].startswith("//"):
        raise refuse("expected redis://HOST")
    if "@" in parts.netloc:  # said without the password it may hold
        hidden = text.replace(parts.netloc, "***@" + parts.netloc.rpartition("@")[2], 1)
        raise InputError(f"{hidden}: a user or password is not supported, as in {example}")
    if not parts.hostname:
        raise refuse("the HOST is missing")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise refuse("the port must be a number from 1 to 65535")
    stream = unquote(parts.path[1:])
    if not stream:
        raise refuse("the STREAM is missing")
    if parts.fragment:
        raise refuse(f"unexpected #{parts.fragment}")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = dict(pairs)
    unknown = set(query) - {"group", "consumer", "db"}
    if unknown:
        raise refuse(f"unknown option {sorted(unknown)[0]!r} (group, consumer, db)")
    for key in query:
        if [name for name, _ in pairs].count(key) > 1:
            raise refuse(f"{key} given twice")
        if not query[key]:
            raise refuse(f"{key} is empty")
    db = query.get("db", "0")
    if not (db.isascii() and db.isdigit()):
        raise refuse(f"db must be a number, not {db!r}")
    return RedisURL(
        text,
        parts.hostname,
        port or 6379,
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
