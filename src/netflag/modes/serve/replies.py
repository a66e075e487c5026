"""How the app answers: JSON bytes as they are, and one error shape for every failure.

Every error is ``{"error": "<one line>"}`` with a fitting status, whether a
route raised :class:`ApiError`, the service raised one of its own errors, or
Starlette or FastAPI refused the request; no input makes a 500, and no
response carries a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from netflag.errors import NetflagError
from netflag.modes.serve.errors import Conflict, Gone, NotFound, Unavailable

log = logging.getLogger("netflag.serve")


class ApiError(Exception):
    """Answer ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(data: Any, status: int = 200) -> Response:
    """``data`` as JSON (orjson), with ``status``."""
    return Response(orjson.dumps(data), status, media_type="application/json")


def handle_errors(app: FastAPI) -> None:
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
            answer = json_response({"error": message}, status)
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
        return json_response({"error": "internal error (logged by the service)"}, 500)

    app.add_exception_handler(Exception, internal)


def _validation(error: RequestValidationError) -> tuple[int, str]:
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return 422, f"{where}: {first.get('msg', 'invalid request')}"
