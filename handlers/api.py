"""The agent-facing HTTP API: intake, item and workflow views."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bot.base.errors import Forbidden, NotFound
from bot.base.http_input import read_limited
from bot.base.submission import Submission
from bot.core import keys
from bot.core.intake import submit
from bot.core.runtime import Runtime
from bot.core.trace import item_view
from bot.reporting.queries import workflow_detail


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON Schema with its `$defs` written in place.

    pydantic points nested models at `#/$defs/...`, which inside /openapi.json resolves against
    the OpenAPI document's root, where there is no `$defs`: clients and fuzzers could not read
    the intake body's schema. The models are not recursive, so inlining terminates.
    """
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return dict(resolve(schema))


_INTAKE_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inlined(Submission.model_json_schema())}},
    }
}


def build_router(rt: Runtime) -> APIRouter:
    """Routes under /api/v1, bound to one runtime."""
    router = APIRouter(prefix="/api/v1", tags=["agents"])

    @router.post("/items", status_code=201, openapi_extra=_INTAKE_DOC)
    async def create_item(request: Request) -> JSONResponse:
        """Submit one agent output (docs/intake.md: the intake body v1)."""
        raw = await read_limited(
            request.stream(), request.headers.get("content-length"), rt.settings.max_body_bytes
        )
        result = await run_in_threadpool(
            submit,
            rt,
            token=_bearer(request),
            raw=raw,
            header_key=request.headers.get("idempotency-key"),
        )
        if not result.replayed:
            rt.metrics.items.labels(
                result.body["workflow"], result.body["status"], result.body["gate"]
            ).inc()
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return JSONResponse(result.body, status_code=result.status_code, headers=headers)

    @router.get("/items/{item_id}")
    def get_item(item_id: str, request: Request) -> dict[str, Any]:
        """Status, gate, level, checks, authority, decision, write-back state and trace."""
        with rt.db.read() as session:
            key = keys.authenticate(session, _bearer(request))
            view = item_view(session, item_id)
        if not keys.in_scope(key, view["workflow"]):
            # The same answer as a missing item: a key must not learn what exists outside it.
            raise NotFound(f"item {item_id!r} does not exist: check the id returned at intake")
        return view

    @router.get("/workflows")
    def list_workflows(request: Request) -> dict[str, Any]:
        """Every loaded workflow this key may see, with its state and counts."""
        with rt.db.read() as session:
            key = keys.authenticate(session, _bearer(request))
            visible = [w for w in rt.specs.specs if keys.in_scope(key, w)]
            return {"workflows": [workflow_detail(rt, session, w) for w in visible]}

    @router.get("/workflows/{workflow_id}")
    def get_workflow(workflow_id: str, request: Request) -> dict[str, Any]:
        """One workflow: spec, mode, paused or active, and its metrics."""
        with rt.db.read() as session:
            key = keys.authenticate(session, _bearer(request))
            rt.spec(workflow_id)
            _require_scope(key, workflow_id)
            return workflow_detail(rt, session, workflow_id)

    return router


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _require_scope(key: keys.Agent, workflow_id: str) -> None:
    if not keys.in_scope(key, workflow_id):
        raise Forbidden(f"agent key {key.key_id} is not scoped to workflow {workflow_id!r}")
