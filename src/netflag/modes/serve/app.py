"""The HTTP app over a :class:`~netflag.modes.serve.service.Service`: wiring, auth, operations.

:func:`create_app` ties the service's life to the app's, puts the ``/v1``
routes (:mod:`~netflag.modes.serve.writes`, :mod:`~netflag.modes.serve.reads`)
behind the bearer token, and answers the unauthenticated operational ones:
health, readiness, metrics, the live page and ``/docs`` (Swagger UI, its assets
served from the fastapi-offline package: it works offline). Errors take one shape
(:mod:`~netflag.modes.serve.replies`); the response models
(:mod:`netflag.modes.serve.schema`) exist for the OpenAPI schema only.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from netflag.modes.serve.limits import Limits
from netflag.modes.serve.reads import add_read_routes
from netflag.modes.serve.replies import ApiError, handle_errors, json_response
from netflag.modes.serve.schema import errors
from netflag.modes.serve.service import Service
from netflag.modes.serve.writes import add_write_routes
from netflag.version import __version__

__all__ = ["Limits", "create_app"]

DEFAULT_LIMITS = Limits()  # frozen, so one instance serves as every app's default


DOCS_ASSETS = resources.files("fastapi_offline") / "static"  # Swagger UI, without a CDN


def _page() -> bytes:
    return resources.files("netflag.modes.serve").joinpath("page.html").read_bytes()


def create_app(
    service: Service, *, token: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> FastAPI:
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
        docs_url=None,
        redoc_url=None,
    )
    app.mount("/docs/assets", StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")
    handle_errors(app)
    expected = None if token is None else token.encode()

    async def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
        if expected is None:
            return
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer ...)")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorized)], responses=errors(401, 422))
    add_write_routes(v1, service, limits)
    add_read_routes(v1, service, limits)
    app.include_router(v1)

    @app.get("/healthz", responses={200: {"content": {"application/json": {}}}})
    async def healthz() -> Response:
        """Alive (the process answers)."""
        return json_response({"status": "ok"})

    @app.get("/readyz", responses=errors(503))
    async def readyz() -> Response:
        """Ready: state loaded and the log writable."""
        if service.failed is not None:
            raise ApiError(503, service.failed)
        return json_response({"status": "ready", "seq": service.synced})

    @app.get("/metrics", response_class=Response)
    async def metrics() -> Response:
        """Prometheus metrics (text format)."""
        return Response(service.metrics.text(), media_type="text/plain; version=0.0.4")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="netflag: API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="data:,",
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> Response:
        return Response(_page(), media_type="text/html; charset=utf-8")

    return app
