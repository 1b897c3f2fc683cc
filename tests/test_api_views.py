"""The 200 bodies of the agent API's reads are what /openapi.json says, key for key."""

from __future__ import annotations

import httpx
from pydantic import BaseModel

from bot.core import decisions
from bot.core.runtime import Runtime
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
