"""GET /api/v1/events: the pull feed of agent events, scoped to the calling key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from bot.base.errors import Forbidden
from bot.base.http_input import bearer
from bot.core import event_feed, keys
from bot.core.runtime import Runtime
from handlers.api_docs import answers, inlined
from handlers.event_docs import EventsPage

_PAGE_SCHEMA = inlined(EventsPage.model_json_schema())
_PAGE = {
    "description": "A page of events",
    "content": {"application/json": {"schema": _PAGE_SCHEMA}},
}


def build_events_router(rt: Runtime) -> APIRouter:
    """The feed route under /api/v1, bound to one runtime."""
    router = APIRouter(prefix="/api/v1", tags=["agents"])

    @router.get("/events", responses={**answers(401, 403, 404, 422), 200: _PAGE})
    def list_events(
        request: Request,
        workflow: str | None = None,
        after: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """The events the signed webhooks carry, oldest first, after the cursor `after`."""
        with rt.db.read() as session:
            key = keys.authenticate(session, bearer(request.headers.get("authorization")))
            scope = _scope(rt, key, workflow)
            return event_feed.page(session, scope, after, limit)

    return router


def _scope(rt: Runtime, key: keys.Agent, workflow: str | None) -> list[str] | None:
    """The workflows whose events this key may read (None: all of them, a `*` key)."""
    if workflow is not None:
        rt.spec(workflow)  # 404 naming the loaded workflows
        if not keys.in_scope(key, workflow):
            raise Forbidden(f"agent key {key.key_id} is not scoped to workflow {workflow!r}")
        return [workflow]
    return None if "*" in key.workflows else list(key.workflows)
