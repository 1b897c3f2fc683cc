"""The one ASGI app of `airlock serve`: agent API, health, metrics and the Slack endpoint."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from slack_bolt import App
from sqlalchemy import func, text
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select
from starlette.exceptions import HTTPException

from bot.app import slack_endpoint
from bot.base.errors import AirlockError
from bot.core.runtime import Runtime
from bot.reporting import queries
from handlers.api import build_router
from handlers.api_docs import RETRY_SECONDS, answers, secure
from handlers.console_routes import build_console_router, console_for
from handlers.event_docs import document_webhooks
from handlers.events_api import build_events_router
from handlers.mcp_http import mount_mcp
from models import Outbox

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem answer."""
    body = {
        "type": f"https://airlock.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def create_app(
    rt: Runtime,
    *,
    slack: tuple[App, str] | None = None,
    on_start: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the app; `on_start`/`on_stop` run the workers for `airlock serve`."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if on_start:
            on_start()
        try:
            async with mcp_running:
                yield
        finally:
            if on_stop:
                on_stop()

    app = FastAPI(title="Airlock", version="1", lifespan=lifespan)
    app.include_router(build_router(rt))
    app.include_router(build_events_router(rt))
    document_webhooks(app)
    mcp_running = mount_mcp(app, rt)
    app.include_router(build_console_router(console_for(rt)))  # /console, read-only
    if slack is not None:
        app.add_api_route(
            "/slack/events",
            slack_endpoint(*slack, rt.db, max_body_bytes=rt.settings.max_body_bytes),
            methods=["POST"],
            include_in_schema=False,
        )
    _install_errors(app)
    _install_ops(app, rt)
    _install_openapi(app)
    return app


def _install_openapi(app: FastAPI) -> None:
    """/openapi.json as FastAPI builds it, plus the agent key as the Bearer scheme it is."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = secure(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _unavailable() -> JSONResponse:
    return problem(
        503,
        "unavailable",
        "Database unreachable",
        "the database did not answer; nothing was stored, retry later",
        {"Retry-After": str(RETRY_SECONDS)},
    )


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(AirlockError)
    async def _domain(_req: Request, exc: AirlockError) -> JSONResponse:
        headers = getattr(exc, "headers", None)  # e.g. Retry-After on a 429
        return problem(exc.status, exc.slug, exc.title, exc.detail, headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return problem(
            422, "invalid-input", "Invalid input", "fix the listed fields", errors=errors
        )

    @app.exception_handler(HTTPException)
    async def _http(_req: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404:
            detail = "no such endpoint: see /openapi.json for the API"
        # The headers the router set, e.g. `Allow` on a 405 (RFC 9110 section 15.5.6).
        return problem(exc.status_code, "http-error", detail, detail, exc.headers)

    @app.exception_handler(OperationalError)
    async def _database(_req: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unreachable: %s", exc)
        return _unavailable()

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem(
            500,
            "internal",
            "Internal error",
            "Airlock failed unexpectedly; nothing was stored. The log has details.",
        )


def _install_ops(app: FastAPI, rt: Runtime) -> None:
    def _counts() -> dict[str, float]:
        with rt.db.read() as session:
            rows = session.exec(
                select(Outbox.kind, func.count())
                .where(col(Outbox.status) == "pending")
                .group_by(col(Outbox.kind))
            ).all()
        return {kind: float(n) for kind, n in rows}

    def _items() -> dict[str, float]:
        # From the rollups: a scrape costs the workflows' counters, not a scan of every item.
        return {status: float(n) for status, n in queries.status_totals(rt).items()}

    rt.metrics.watch("airlock_outbox_pending", "Side effects waiting, by kind", _counts)
    rt.metrics.watch("airlock_items", "Items stored, by status", _items)

    @app.get("/healthz", tags=["ops"], responses=answers(503))
    def healthz() -> JSONResponse:
        """Liveness and database reachability."""
        try:
            with rt.db.read() as session:
                session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception:
            # The details (host, database, driver message) go to the log, never to the caller.
            log.exception("health check: database unreachable")
            return _unavailable()
        return JSONResponse(
            {"status": "ok", "database": rt.db.dialect, "workflows": len(rt.specs.specs)}
        )

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse, responses=answers())
    def metrics() -> Response:
        """Prometheus text format."""
        return Response(rt.metrics.render(), media_type="text/plain; version=0.0.4")
