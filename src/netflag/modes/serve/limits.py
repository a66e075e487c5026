"""What one request may ask of the service, and the body read that holds it to that.

A body over the limit is refused as soon as it is known to be (from its
``Content-Length``, or while it streams in), before it is read whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from netflag.modes.serve.replies import ApiError


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask: body bytes, events, seconds to become durable."""

    max_body: int = 1 << 20
    max_events: int = 10_000
    request_seconds: float = 10.0


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it is over ``limit`` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, f"body is {int(length):,} bytes; at most {limit:,}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"body is over {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
