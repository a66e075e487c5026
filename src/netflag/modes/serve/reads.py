"""The routes that read: a score, an explanation, the flags (listed or streamed), feeds, stats.

None of them changes the engine. Flags, feeds and recommendations show durable
events only (up to the service's ``synced``); the stream sends each new flag
once it is durable, after a backlog from where the client left off.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from netflag.io.events import LineError, parse_score
from netflag.modes.serve.limits import Limits, read_body
from netflag.modes.serve.queries import END
from netflag.modes.serve.replies import ApiError, json_response
from netflag.modes.serve.schema import (
    SCORE_BODY,
    Explained,
    FeedAnswer,
    FlagsAnswer,
    InvitesAnswer,
    Stats,
    errors,
)
from netflag.modes.serve.service import Service

KEEPALIVE_SECONDS = 15.0


def add_read_routes(v1: APIRouter, service: Service, limits: Limits) -> None:
    """Add the query routes to ``v1``."""

    @v1.post(
        "/score",
        response_model=Explained,
        responses=errors(400, 413, 415),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": SCORE_BODY}},
            }
        },
    )
    async def score(request: Request) -> Response:
        """Decide a purchase now without recording it: mean, sd, threshold, z-score, network."""
        body = await read_body(request, limits.max_body)
        try:
            user, amount, timestamp = parse_score(body)
        except LineError as error:
            raise ApiError(400, str(error)) from None
        data = service.score(user, amount).to_json()
        data["seq"] = data.pop("line")
        data["timestamp"] = timestamp  # checked, echoed: the state now decides either way
        return json_response(data)

    @v1.get("/explain", response_model=Explained, responses=errors(404, 410, 503))
    async def explain(seq: Annotated[int, Query(ge=1, le=2**62)]) -> Response:
        """Why the purchase at ``seq`` was (not) flagged, as it was decided."""
        found = await service.explain(seq)
        data = found.to_json()
        data["seq"] = data.pop("line")
        return json_response(data)

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
        return json_response({"flags": found, "last_seq": last})

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
        return json_response({"user": user, "feed": found})

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
        return json_response({"user": user, "recommendations": found})

    @v1.get("/stats", response_model=Stats)
    async def stats() -> Response:
        """Counters and the engine's size, for dashboards and the page."""
        return json_response(service.stats())


def _text(line: bytes) -> str:
    return line.rstrip(b"\n").decode()


def _newest(indexes: Sequence[int], seqs: Any, synced: int, limit: int | None) -> list[int]:
    """The durable ones of ``indexes`` (oldest first), newest first, at most ``limit``."""
    found = []
    for index in reversed(indexes):
        if seqs[index] > synced:
            continue
        found.append(index)
        if limit is not None and len(found) == limit:
            break
    return found


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
            if seq == END[0]:
                return  # the server is stopping
            if seq > last:
                yield _sse(seq, line)
                last = seq
    finally:
        service.unsubscribe(queue)


def _sse(seq: int, line: bytes) -> bytes:
    data = orjson.dumps({"seq": seq, "flag": _text(line)})
    return b"id: %d\nevent: flag\ndata: %s\n\n" % (seq, data)
