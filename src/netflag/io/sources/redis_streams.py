"""``redis://HOST:PORT/STREAM``: a Redis stream read through a consumer group.

Each entry carries one event line in its ``event`` field (``netflag produce``
writes them so); an entry without it is read as a JSON object of its fields,
so ``XADD events * event_type purchase timestamp ... id 2 amount 9.99`` works too.

Exactly-once rests on the checkpoint, not on the group's memory: on
:meth:`RedisSource.resume` the group is moved (``XGROUP SETID``) to the
checkpointed entry id, so every entry after it is delivered again, pending ones
(read by a run that crashed before its checkpoint) included; entries at or
before it are acknowledged and skipped. ``XACK`` is sent only by
:meth:`RedisSource.commit`, after the flags and the engine state covering the
entries are durable. After a lost connection the group is moved back to the
last entry handed out, so an entry delivered into a broken connection is not
lost. One netflag process per group: the engine must see every event in order.
"""

from __future__ import annotations

import time
from collections import deque
from functools import partial
from typing import Any

import orjson
from redis.exceptions import ResponseError

from netflag.errors import InputError
from netflag.io.redis_client import (
    UNREACHABLE,
    Backoff,
    connect,
    describe,
    entry_key,
    parse_url,
    retrying,
)
from netflag.io.sources.base import START, Lag, Line, Position

ACK_CHUNK = 1_000


class RedisSource:
    """Reads a stream with XREADGROUP; acknowledges with XACK on commit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.finished = False
        self._url = parse_url(url)
        self._redis = connect(self._url)
        self._backoff = Backoff()
        self._floor = (0, 0)  # entries at or before the checkpoint: skip them
        self._last = "0-0"  # the last entry id handed out (or the checkpoint's)
        self._delivered: deque[str] = deque()  # handed out or skipped, not yet acknowledged
        self._broken = False

    def _sync(self, entry_id: str) -> None:
        """Create the group if needed and make it deliver everything after ``entry_id``."""
        stream, group = self._url.stream, self._url.group
        try:
            self._redis.xgroup_create(stream, group, id=entry_id, mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._redis.xgroup_setid(stream, group, entry_id)

    def resume(self, position: Position | None, run: str | None = None) -> None:
        entry_id = str(position["id"]) if position else "0-0"
        self._floor = entry_key(entry_id)
        self._last = entry_id
        retrying(self._url, self._backoff, lambda: self._sync(entry_id))
        if position is not None:  # pending entries a checkpoint covers: the crash beat the XACK
            stream, group = self._url.stream, self._url.group
            while True:
                pending = retrying(
                    self._url,
                    self._backoff,
                    lambda: self._redis.xpending_range(stream, group, "-", entry_id, ACK_CHUNK),
                )
                ids = [item["message_id"] for item in pending]
                if ids:
                    ack = partial(self._redis.xack, stream, group, *ids)
                    retrying(self._url, self._backoff, ack)
                if len(ids) < ACK_CHUNK:
                    break

    def poll(self, timeout: float, limit: int) -> list[Line]:
        url = self._url
        try:
            if self._broken:
                self._sync(self._last)
                self._broken = False
            reply: Any = self._redis.xreadgroup(
                url.group,
                url.consumer,
                {url.stream: ">"},
                count=limit,
                block=int(timeout * 1000) if timeout >= 0.001 else None,
            )
        except UNREACHABLE as error:
            self._broken = True
            time.sleep(min(timeout, self._backoff.failed(url.text, error)))
            return []
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise InputError(f"{url.text}: Redis refused: {describe(error)}") from None
            self._broken = True  # the stream or group vanished (Redis lost data): recreate
            return []
        self._backoff.succeeded(url.text)
        lines: list[Line] = []
        for _, entries in reply or []:
            for raw_id, fields in entries:
                entry_id = raw_id.decode()
                self._delivered.append(entry_id)
                self._last = entry_id
                if entry_key(entry_id) > self._floor:  # fields is None for a deleted entry
                    lines.append(({"id": entry_id}, _event_line(fields or {})))
        return lines

    def commit(self, position: Position) -> None:
        upto = entry_key(str(position["id"]))
        done: list[str] = []
        while self._delivered and entry_key(self._delivered[0]) <= upto:
            done.append(self._delivered.popleft())
        stream, group = self._url.stream, self._url.group
        for start in range(0, len(done), ACK_CHUNK):
            ack = partial(self._redis.xack, stream, group, *done[start : start + ACK_CHUNK])
            retrying(self._url, self._backoff, ack)

    def describe(self, position: Position) -> str:
        return f"{self.url}#{position['id']}"

    def reject_record(self, position: Position, reason: str, raw: bytes) -> bytes:
        record = {
            "source": self.url,
            "id": position["id"],
            "reason": reason,
            "raw": raw.rstrip(b"\r\n").decode("utf-8", errors="replace"),
        }
        return orjson.dumps(record) + b"\n"

    def position_text(self, position: Position | None) -> str:
        return START if position is None else f"entry {position['id']}"

    def lag(self) -> Lag | None:
        """The consumer group's lag; None when Redis cannot tell (reads log why it is down)."""
        try:
            groups: Any = self._redis.xinfo_groups(self._url.stream)
        except (*UNREACHABLE, ResponseError):
            return None
        for group in groups:
            if group.get("name") == self._url.group.encode() and group.get("lag") is not None:
                return Lag(int(group["lag"]), "entries")
        return None

    def close(self) -> None:
        self._redis.close()


def _event_line(fields: dict[bytes, bytes]) -> bytes:
    """The event line of an entry: its ``event`` field, else its fields as a JSON object."""
    line = fields.get(b"event")
    if line is not None:
        return line
    return orjson.dumps(
        {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}
    )
