"""The agent-facing HTTP API: intake, item and workflow views."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.base.errors import Forbidden
from bot.base.http_input import bearer, read_limited
from bot.core import keys
from bot.core.runtime import Runtime
from bot.core.waiting import MAX_WAIT_SECONDS
from bot.reporting.agent_views import intake_for, item_for, wait_item, workflows_for
from bot.reporting.queries import workflow_detail
from handlers.api_docs import INTAKE_BODY, answers
from handlers.api_views import ItemView, WorkflowList, WorkflowView, body


def build_router(rt: Runtime) -> APIRouter:
    """Routes under /api/v1, bound to one runtime."""
    router = APIRouter(prefix="/api/v1", tags=["agents"])
    _add_intake(router, rt)
    _add_item_view(router, rt)
    _add_workflow_views(router, rt)
    return router


def _add_intake(router: APIRouter, rt: Runtime) -> None:
    """POST /items: the intake."""

    @router.post(
        "/items",
        status_code=201,
        openapi_extra=INTAKE_BODY,
        responses=answers(400, 401, 403, 404, 409, 413, 422, created=True),
    )
    async def create_item(request: Request) -> JSONResponse:
        """Submit one agent output (docs/intake.md: the intake body v1)."""
        raw = await read_limited(
            request.stream(), request.headers.get("content-length"), rt.settings.max_body_bytes
        )
        token, header_key = _bearer(request), request.headers.get("idempotency-key")
        trace = request.headers.get("traceparent")  # W3C trace context: joins the agent's trace
        result = await run_in_threadpool(intake_for, rt, token, raw, header_key, trace)
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return JSONResponse(result.body, status_code=result.status_code, headers=headers)


def _add_item_view(router: APIRouter, rt: Runtime) -> None:
    """GET /items/{id}: one item as the agent's key may see it."""

    @router.get(
        "/items/{item_id}",
        responses={**answers(401, 404, 422, 429), **body(ItemView, "The item")},
    )
    async def get_item(
        item_id: str,
        request: Request,
        wait: float | None = Query(
            None,
            ge=0,
            le=MAX_WAIT_SECONDS,
            description="Long-poll: answer as soon as the status or write-back state changes, "
            f"or after this many seconds (at most {MAX_WAIT_SECONDS:g})",
        ),
    ) -> dict[str, Any]:
        """Status, gate, level, checks, authority, decision, write-back state and trace."""
        if wait:
            return await wait_item(rt, _bearer(request), item_id, wait)
        return await run_in_threadpool(item_for, rt, _bearer(request), item_id)


def _add_workflow_views(router: APIRouter, rt: Runtime) -> None:
    """GET /workflows and /workflows/{id}: the workflows in the key's scope."""

    @router.get(
        "/workflows", responses={**answers(401), **body(WorkflowList, "The key's workflows")}
    )
    def list_workflows(request: Request) -> dict[str, Any]:
        """Every loaded workflow this key may see, with its state and counts."""
        return {"workflows": workflows_for(rt, _bearer(request))}

    @router.get(
        "/workflows/{workflow_id}",
        responses={**answers(401, 403, 404, 422), **body(WorkflowView, "The workflow")},
    )
    def get_workflow(workflow_id: str, request: Request) -> dict[str, Any]:
        """One workflow: spec, mode, paused or active, and its metrics."""
        with rt.db.read() as session:
            key = keys.authenticate(session, _bearer(request))
            rt.spec(workflow_id)
            _require_scope(key, workflow_id)
            return workflow_detail(rt, session, workflow_id)


def _bearer(request: Request) -> str | None:
    return bearer(request.headers.get("authorization"))


def _require_scope(key: keys.Agent, workflow_id: str) -> None:
    if not keys.in_scope(key, workflow_id):
        raise Forbidden(f"agent key {key.key_id} is not scoped to workflow {workflow_id!r}")
