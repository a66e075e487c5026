"""The route that writes: ``POST /v1/events``, answered once its events are durable.

The body (a JSON object, an array of them, or NDJSON) becomes event lines for
the service's writer; each line is then applied or rejected on its own. A
request that is not durable in time is a 503 that says whether a retry is safe.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from netflag.modes.serve.bodies import BodyError, event_lines
from netflag.modes.serve.limits import Limits, read_body
from netflag.modes.serve.replies import ApiError
from netflag.modes.serve.schema import EventsAnswer, errors
from netflag.modes.serve.service import Service

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def add_write_routes(v1: APIRouter, service: Service, limits: Limits) -> None:
    """Add ``POST /events`` to ``v1``."""

    @v1.post(
        "/events",
        response_model=EventsAnswer,
        responses=errors(400, 409, 413, 415, 503),
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "A JSON object (one event), a JSON array of events, or NDJSON"
                " (one event a line). Each one that is not a valid event is answered as"
                " rejected, with SPEC's reason; only a body that is not JSON is a 400.",
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"type": "object"},
                                {"type": "array", "items": {"type": "object"}},
                            ]
                        }
                    },
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def post_events(
        request: Request,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Response:
        """Apply events in order and answer once they are durable: one result per event."""
        body = await read_body(request, limits.max_body)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            lines = event_lines(body, ndjson=kind in NDJSON_TYPES)
        except BodyError as error:
            raise ApiError(400, str(error)) from None
        if len(lines) > limits.max_events:
            raise ApiError(413, f"{len(lines):,} events; at most {limits.max_events:,} a request")
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        work = service.submit(lines, idempotency_key, digest)
        try:
            text = await asyncio.wait_for(work, limits.request_seconds)
        except TimeoutError:
            retry = (
                "retry with the same Idempotency-Key"
                if idempotency_key
                else "it may still be applied: without an Idempotency-Key a retry applies it again"
            )
            raise ApiError(
                503, f"not durable within {limits.request_seconds:g} s; {retry}"
            ) from None
        return Response(text, media_type="application/json")
