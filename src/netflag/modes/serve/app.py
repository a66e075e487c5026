"""The HTTP surface of :class:`~netflag.modes.serve.service.Service`: routes, auth, limits, errors.

Every error is ``{"error": "<one line>"}`` with a fitting status; no input
makes a 500, and no response carries a traceback. The response models
(:mod:`netflag.modes.serve.schema`) exist for the OpenAPI schema only.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException

from netflag.errors import NetflagError
from netflag.io.events import LineError, parse_user_amount
from netflag.modes.serve.bodies import BodyError, event_lines
from netflag.modes.serve.schema import (
    SCORE_BODY,
    EventsAnswer,
    Explained,
    FeedAnswer,
    FlagsAnswer,
    InvitesAnswer,
    Stats,
    errors,
)
from netflag.modes.serve.service import Conflict, Gone, NotFound, Service, Unavailable
from netflag.version import __version__

log = logging.getLogger("netflag.serve")
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask: body bytes, events, seconds to become durable."""

    max_body: int = 1 << 20
    max_events: int = 10_000
    request_seconds: float = 10.0


class ApiError(Exception):
    """Answer ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def _page() -> bytes:
    return resources.files("netflag.modes.serve").joinpath("page.html").read_bytes()


def create_app(service: Service, *, token: str | None = None, limits: Limits = Limits()) -> FastAPI:
    """The ASGI app; it starts the service's writer and closes the service with itself."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.run_writer()
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="netflag",
        version=__version__,
        description="Flags purchases far above what the buyer's social network usually spends.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    _handleerrors(app)
    expected = None if token is None else token.encode()

    async def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
        if expected is None:
            return
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer ...)")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorized)], responses=errors(401, 422))

    @v1.post(
        "/events",
        response_model=EventsAnswer,
        responses=errors(400, 409, 413, 503),
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
        body = await _read_body(request, limits.max_body)
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

    @v1.post(
        "/score",
        response_model=Explained,
        responses=errors(400, 413),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": SCORE_BODY}},
            }
        },
    )
    async def score(request: Request) -> Response:
        """Decide a purchase now without recording it: mean, sd, threshold, z-score, network."""
        body = await _read_body(request, limits.max_body)
        try:
            user, amount = parse_user_amount(body)
        except LineError as error:
            raise ApiError(400, str(error)) from None
        data = service.score(user, amount).to_json()
        data["seq"] = data.pop("line")
        return _json(data)

    @v1.get("/explain", response_model=Explained, responses=errors(404, 410, 503))
    async def explain(seq: Annotated[int, Query(ge=1, le=2**62)]) -> Response:
        """Why the purchase at ``seq`` was (not) flagged, as it was decided."""
        found = await service.explain(seq)
        data = found.to_json()
        data["seq"] = data.pop("line")
        return _json(data)

    @v1.get("/flags", response_model=FlagsAnswer)
    async def flags(
        after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    ) -> Response:
        """Flags in log order after sequence number ``after``; without it, the newest ``limit``."""
        store, synced = service.flags, service.synced
        chosen = store.newest(limit, synced) if after is None else store.after(after, limit, synced)
        found = [{"seq": store.seqs[i], "flag": _text(store.line(i))} for i in chosen]
        last = found[-1]["seq"] if found else (after if after is not None else synced)
        return _json({"flags": found, "last_seq": last})

    @v1.get(
        "/flags/stream",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
    )
    async def flags_stream(
        after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        """Server-Sent Events: one ``flag`` event per new flag (``id`` is its seq).

        Resumes after ``Last-Event-ID`` or ``?after=``; without either, only new flags."""
        start = after
        if last_event_id is not None and last_event_id.isdigit():
            start = int(last_event_id)
        return StreamingResponse(
            _events(service, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @v1.get("/users/{user}/feed", response_model=FeedAnswer)
    async def feed(
        user: Annotated[str, Path(min_length=1)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    ) -> Response:
        """Flagged purchases highlighted in ``user``'s feed (their friends' flags), newest first."""
        store = service.flags
        found = [
            {"seq": store.seqs[i], "flag": _text(store.line(i))}
            for i in _newest(store.feed(user), store.seqs, service.synced, limit)
        ]
        return _json({"user": user, "feed": found})

    @v1.get("/users/{user}/recommendations", response_model=InvitesAnswer)
    async def recommendations(
        user: Annotated[str, Path(min_length=1)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    ) -> Response:
        """Flagged buyers recommended to ``user`` as friends, with mutual friends, newest first."""
        store, found, seen = service.flags, [], set()
        for index in _newest(store.invites(user), store.seqs, service.synced, None):
            action = store.action(index)
            buyer = action["flagged"]["id"]
            buyer = str(buyer)
            if buyer in seen:
                continue
            seen.add(buyer)
            mutual = next(
                r["mutual_friends"] for r in action["recommendations"] if r["user"] == user
            )
            found.append({"seq": store.seqs[index], "user": buyer, "mutual_friends": mutual})
            if len(found) == limit:
                break
        return _json({"user": user, "recommendations": found})

    @v1.get("/stats", response_model=Stats)
    async def stats() -> Response:
        """Counters and the engine's size, for dashboards and the page."""
        return _json(service.stats())

    app.include_router(v1)

    @app.get("/healthz", responses={200: {"content": {"application/json": {}}}})
    async def healthz() -> Response:
        """Alive (the process answers)."""
        return _json({"status": "ok"})

    @app.get("/readyz", responses=errors(503))
    async def readyz() -> Response:
        """Ready: state loaded and the log writable."""
        if service.failed is not None:
            raise ApiError(503, service.failed)
        return _json({"status": "ready", "seq": service.synced})

    @app.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus metrics (text format)."""
        return Response(service.metrics.text(), media_type="text/plain; version=0.0.4")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> Response:
        return Response(_page(), media_type="text/html; charset=utf-8")

    return app


def _text(line: bytes) -> str:
    return line.rstrip(b"\n").decode()


def _newest(indexes: list[int], seqs: Any, synced: int, limit: int | None) -> list[int]:
    """The durable ones of ``indexes`` (oldest first), newest first, at most ``limit``."""
    found = []
    for index in reversed(indexes):
        if seqs[index] > synced:
            continue
        found.append(index)
        if limit is not None and len(found) == limit:
            break
    return found


async def _read_body(request: Request, limit: int) -> bytes:
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


async def _events(service: Service, after: int | None) -> AsyncIterator[bytes]:
    """The SSE stream: the backlog after ``after``, then each new durable flag."""
    queue = service.subscribe()
    try:
        last = service.synced if after is None else after
        store = service.flags
        for index in store.after(last, len(store), service.synced):
            yield _sse(store.seqs[index], store.line(index))
            last = store.seqs[index]
        yield b": connected\n\n"
        while True:
            try:
                seq, line = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                if queue not in service.subscribers:
                    return  # dropped for falling behind
                yield b": keep-alive\n\n"
                continue
            if seq > last:
                yield _sse(seq, line)
                last = seq
    finally:
        service.unsubscribe(queue)


def _sse(seq: int, line: bytes) -> bytes:
    data = orjson.dumps({"seq": seq, "flag": _text(line)})
    return b"id: %d\nevent: flag\ndata: %s\n\n" % (seq, data)


def _handleerrors(app: FastAPI) -> None:
    """One error shape for everything, and never a traceback."""
    statuses: dict[type[NetflagError], int] = {
        Conflict: 409,
        NotFound: 404,
        Gone: 410,
        Unavailable: 503,
    }

    def handler(
        status_of: Callable[[Any], tuple[int, str]],
    ) -> Callable[[Request, Any], Awaitable[Response]]:
        async def handle(request: Request, error: Any) -> Response:
            status, message = status_of(error)
            answer = _json({"error": message}, status)
            # Starlette's own errors carry headers that belong to them (405: Allow)
            answer.headers.update(getattr(error, "headers", None) or {})
            return answer

        return handle

    app.add_exception_handler(ApiError, handler(lambda e: (e.status, e.message)))
    app.add_exception_handler(NetflagError, handler(lambda e: (statuses.get(type(e), 400), str(e))))
    app.add_exception_handler(HTTPException, handler(lambda e: (e.status_code, str(e.detail))))
    app.add_exception_handler(RequestValidationError, handler(_validation))

    async def internal(request: Request, error: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _json({"error": "internal error (logged by the service)"}, 500)

    app.add_exception_handler(Exception, internal)


def _validation(error: RequestValidationError) -> tuple[int, str]:
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return 422, f"{where}: {first.get('msg', 'invalid request')}"
