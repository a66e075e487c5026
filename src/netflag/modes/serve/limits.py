"""What one request may ask of the service, and the body read that holds it to that.

A body over the limit is refused as soon as it is known to be (from its
``Content-Length``, or while it streams in), before it is read whole. A gzip
body (``Content-Encoding: gzip``) is inflated under the same limit, counted
on what it inflates to, so a small bomb is a 413 too; any other encoding is a
415.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from fastapi import Request
from starlette.requests import ClientDisconnect

from netflag.modes.serve.replies import ApiError


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask: body bytes, events, seconds to become durable."""

    max_body: int = 1 << 20
    max_events: int = 10_000
    request_seconds: float = 10.0


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body (inflated, if gzip), or 413 as soon as it is over ``limit`` bytes."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise ApiError(415, f"Content-Encoding {encoding!r} is not taken: send gzip or none")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, f"body is {int(length):,} bytes; at most {limit:,}")
    inflate = zlib.decompressobj(wbits=31) if encoding == "gzip" else None
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            if inflate is not None:
                chunk = _inflate(inflate, chunk, limit - size)
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"body is over {limit:,} bytes")
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or dropped by the guard: no one reads the answer
        raise ApiError(408, "the connection closed before the body arrived") from None
    if inflate is not None and not inflate.eof:
        raise ApiError(400, "gzip body is cut short")
    return b"".join(chunks)


def _inflate(inflate: zlib._Decompress, chunk: bytes, room: int) -> bytes:
    """What ``chunk`` inflates to, at most one byte past ``room`` (enough to say 413)."""
    try:
        out = inflate.decompress(chunk, room + 1)
    except zlib.error:
        raise ApiError(400, "body is not valid gzip") from None
    return out
