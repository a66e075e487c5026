"""``redis://HOST:PORT/STREAM``: each record XADDed to a Redis stream, exactly once.

An entry holds the record's top-level JSON fields as strings (for a flag:
``event_type``, ``timestamp``, ``id``, ``amount``, ``mean``, ``sd``...), then
``line`` (the exact JSON line, the bytes a file sink writes), ``n`` (the record
number) and ``run`` (the live run's id). Redis cannot take entries back, so
idempotence comes from ``n`` and ``run``: on resume, and after any broken
connection, the sink reads the entries after its last known one and skips the
record numbers this run already wrote.
"""

from __future__ import annotations

from typing import Any

import orjson

from netflag.io.events import LineError, load_object
from netflag.io.redis_client import Backoff, connect, parse_url, retrying
from netflag.io.sinks.base import Position

SCAN_CHUNK = 1_000
OWN_FIELDS = ("line", "n", "run")


def entry_fields(line: bytes, number: int, run: str) -> dict[str, bytes]:
    """The fields of one stream entry for record ``line``.

    >>> fields = entry_fields(b'{"id": "2", "amount": 9.5, "sd": "1.00"}\\n', 7, "r1")
    >>> fields["amount"], fields["sd"], fields["n"], fields["run"]
    (b'9.5', b'1.00', b'7', b'r1')
    >>> fields["line"]
    b'{"id": "2", "amount": 9.5, "sd": "1.00"}'
    """
    text = line.rstrip(b"\r\n")
    fields: dict[str, bytes] = {}
    try:
        record = load_object(text, literal_numbers=True)  # 12.50 stays 12.50
    except LineError:
        record = {}
    for key, value in record.items():
        if key not in OWN_FIELDS:
            fields[key] = value.encode() if isinstance(value, str) else orjson.dumps(value)
    fields.update(line=text, n=str(number).encode(), run=run.encode())
    return fields


class RedisSink:
    """XADDs records in pipelines; skips record numbers the stream already holds for this run."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._url = parse_url(url)
        self._redis = connect(self._url)
        self._backoff = Backoff()
        self._run = ""
        self._last_id = "0-0"  # the newest entry the sink has seen in the stream
        self._count = 0  # the highest record number of this run known to be in the stream
        self._pending: list[tuple[int, bytes]] = []

    def resume(self, position: Position | None, run: str) -> None:
        self._run = run
        if position is None:
            tail: Any = retrying(
                self._url, self._backoff, lambda: self._redis.xrevrange(self._url.stream, count=1)
            )
            self._last_id = tail[0][0].decode() if tail else "0-0"
            self._count = 0
        else:
            self._last_id, self._count = str(position["id"]), int(position["count"])
            retrying(self._url, self._backoff, self._scan)

    def _scan(self) -> None:
        """Read the entries after the last known one; note the highest number of this run."""
        run = self._run.encode()
        while True:
            entries: Any = self._redis.xrange(
                self._url.stream, f"({self._last_id}", "+", count=SCAN_CHUNK
            )
            for raw_id, fields in entries:
                self._last_id = raw_id.decode()
                if fields.get(b"run") == run:
                    self._count = max(self._count, int(fields[b"n"]))
            if len(entries) < SCAN_CHUNK:
                return

    def write(self, number: int, line: bytes) -> None:
        known = self._pending[-1][0] if self._pending else self._count
        if number > known:
            self._pending.append((number, line))

    def push(self) -> None:
        if self._pending:
            retrying(self._url, self._backoff, self._send, resync=self._resync)

    def _resync(self) -> None:
        self._scan()
        self._pending = [(n, line) for n, line in self._pending if n > self._count]

    def _send(self) -> None:
        if not self._pending:
            return
        pipe = self._redis.pipeline(transaction=False)
        for number, line in self._pending:
            pipe.xadd(self._url.stream, entry_fields(line, number, self._run))  # type: ignore[arg-type]
        ids: list[Any] = pipe.execute()
        self._last_id = ids[-1].decode()
        self._count = self._pending[-1][0]
        self._pending = []

    def flush(self) -> Position:
        self.push()
        return {"id": self._last_id, "count": self._count}

    def close(self) -> None:
        self._redis.close()
