"""The HTTP connection guard: what a slow, idle or greedy client may hold.

uvicorn drops a keep-alive connection left idle after a response, but not one
that never sends a request, trickles its head a byte a second or announces a
body it never sends, and it takes a head of any size. Each such connection
holds a descriptor until the server runs out. :class:`Guard` sets the bounds;
:func:`guarded` makes uvicorn's httptools protocol keep to them, with one
deadline per connection:

- ``idle_seconds`` from the connection (or its last answer) to the first byte
  of a request: then it is closed (this replaces uvicorn's keep-alive timeout);
- ``header_seconds`` from that byte to the end of the head: 408;
- ``body_seconds`` from the end of the head to the end of the body: 408;
- a head (request line and headers) over ``max_header_bytes``: 431;
- past ``max_connections`` open at once, a new connection gets a 503 and is
  closed at once.

The refusals are written straight to the socket (no request reached the app, or
the app is still waiting for the body it will not get), then the connection is
half-closed and what the client still sends is read and dropped for up to
``LINGER_SECONDS`` before it is closed: closing with unread bytes would reset
the connection, and the client would lose the answer. ``dropped(reason)``
counts each refusal for ``/metrics``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

LINGER_SECONDS = 2.0
REASONS = ("too_many_connections", "idle", "header_timeout", "body_timeout", "header_too_large")


@dataclass(frozen=True, slots=True)
class Guard:
    """The bounds on one connection and on how many are open."""

    idle_seconds: float = 5.0
    header_seconds: float = 10.0
    body_seconds: float = 30.0
    max_header_bytes: int = 16 * 1024
    max_connections: int = 1000


def refusal(status: int, phrase: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, in the service's error shape.

    >>> refusal(431, "Request Header Fields Too Large", "x").split(b"\\r\\n")[0]
    b'HTTP/1.1 431 Request Header Fields Too Large'
    """
    body = b'{"error":"' + message.encode("ascii") + b'"}'
    return (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode("ascii") + body


def guarded(guard: Guard, dropped: Callable[[str], None]) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol held to ``guard`` (pass it as ``Config(http=...)``)."""

    class GuardedProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _head_bytes = 0
        _refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > guard.max_connections:
                many = f"more than {guard.max_connections:,} connections are open: retry later"
                self._refuse("too_many_connections", 503, "Service Unavailable", many)
            else:
                self._arm(guard.idle_seconds, self._idle)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if not self._refused:  # what follows a refusal is read and dropped
                super().data_received(data)

        def eof_received(self) -> None:
            if self._refused:
                self.transport.close()  # the client is done: no need to linger

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = 0
            self._arm(guard.header_seconds, self._slow_header)

        def on_url(self, url: bytes) -> None:
            self._count_head(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count_head(len(name) + len(value) + 4)  # ": " and the line break
            if not self._refused:
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            if self._refused:
                return
            self._arm(guard.body_seconds, self._slow_body)
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if self._refused:
                return
            super().on_message_complete()
            if self.cycle is not None and self.cycle.response_complete:
                self._arm(guard.idle_seconds, self._idle)  # answered before its body ended
            else:
                self._disarm()  # the app has the whole request; its answer re-arms

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and not self.pipeline:
                self._unset_keepalive_if_required()  # this deadline replaces uvicorn's own
                self._arm(guard.idle_seconds, self._idle)

        def _count_head(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > guard.max_header_bytes and not self._refused:
                big = f"the request head is over {guard.max_header_bytes:,} bytes"
                self._refuse("header_too_large", 431, "Request Header Fields Too Large", big)

        def _idle(self) -> None:
            self._drop("idle", b"")

        def _slow_header(self) -> None:
            late = f"the request head did not arrive within {guard.header_seconds:g} s"
            self._refuse("header_timeout", 408, "Request Timeout", late)

        def _slow_body(self) -> None:
            late = f"the request body did not arrive within {guard.body_seconds:g} s"
            if self.cycle is not None and self.cycle.response_started:
                self._drop("body_timeout", b"")  # the app answered already: just close
            else:
                self._refuse("body_timeout", 408, "Request Timeout", late)

        def _refuse(self, reason: str, status: int, phrase: str, message: str) -> None:
            self._drop(reason, refusal(status, phrase, message))

        def _drop(self, reason: str, answer: bytes) -> None:
            self._disarm()
            self._refused = True
            dropped(reason)
            transport = self.transport
            if transport.is_closing():
                return
            if answer and transport.can_write_eof():
                transport.write(answer)
                transport.write_eof()
                self._arm(LINGER_SECONDS, transport.close)
            else:
                if answer:
                    transport.write(answer)
                transport.close()

        def _arm(self, seconds: float, then: Callable[[], None]) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, then)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

    return GuardedProtocol
