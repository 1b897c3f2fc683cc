"""The 200 bodies of the agent API's reads are what /openapi.json says, key for key."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel

from bot.core import decisions
from bot.core.runtime import Runtime
from bot.service import Service
from handlers.api_views import ItemView, WorkflowList, WorkflowView
from tests import payloads
from tests.test_lifecycle import post


def conforms(model: type[BaseModel], answer: httpx.Response) -> None:
    assert answer.status_code == 200, answer.text
    model.model_validate(answer.json(), strict=False)  # raises naming a missing or extra key


def test_item_and_workflow_answers_match_their_schemas(
    rt: Runtime, agent_key: str, api: httpx.Client
) -> None:
    pending = post(rt, agent_key, payloads.field_update(idempotency_key="pending"))
    rejected = post(rt, agent_key, payloads.field_update(idempotency_key="rejected"))
    decisions.reject(rt, rejected, "U0ADMIN", "inaccurate", "wrong stage")
    approved = post(rt, agent_key, payloads.field_update(idempotency_key="approved"))
    decisions.approve(rt, approved, "U0ADMIN")
    for item_id in (pending, rejected, approved):
        conforms(ItemView, api.get(f"/api/v1/items/{item_id}"))
    conforms(ItemView, api.get(f"/api/v1/items/{pending}", params={"wait": 0}))
    conforms(WorkflowList, api.get("/api/v1/workflows"))
    conforms(WorkflowView, api.get("/api/v1/workflows/opp-hygiene"))


def test_openapi_names_every_key_of_the_reads(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    item = paths["/api/v1/items/{item_id}"]["get"]["responses"]["200"]
    schema = item["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(ItemView.model_fields)
    for path in ("/api/v1/workflows", "/api/v1/workflows/{workflow_id}"):
        answer = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["additionalProperties"] is False


# Served but not in /openapi.json, each for a reason the README's HTTP reference gives.
UNDOCUMENTED = {
    "/slack/events": "Slack's own signed protocol (Slack app set-up)",
    "/mcp": "the MCP protocol: the server lists its tools itself",
    "/console": "HTML pages for people",
    "/sandbox": "HTML pages for people",
    "/openapi.json": "the document itself",
    "/docs": "FastAPI's viewer of the document",
    "/redoc": "FastAPI's viewer of the document",
    "/": "a redirect to /sandbox in the sandbox",
}


def served_paths(routes: list[Any], prefix: str = "") -> set[str]:
    """Every path the app serves. FastAPI 0.165 keeps an included router whole (its routes under
    `original_router`, its prefix in `include_context`) instead of copying its routes."""
    paths: set[str] = set()
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            paths |= served_paths(inner.routes, prefix + route.include_context.prefix)
        elif getattr(route, "path", ""):
            paths.add(prefix + route.path)
    return paths


def test_openapi_lists_every_route_but_the_named_ones(service: Service, api: httpx.Client) -> None:
    documented = set(api.get("/openapi.json").json()["paths"])
    served = served_paths(service.app.routes)
    assert {"/api/v1/items", "/api/v1/items/{item_id}", "/api/v1/events", "/mcp"} <= served
    assert "/console/items" in served  # routes of included routers are counted
    missing = {
        path
        for path in served - documented
        if path != "/" and not any(path == p or path.startswith(f"{p}/") for p in UNDOCUMENTED)
    }
    assert missing == set()
