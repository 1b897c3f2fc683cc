"""Agent intake over real HTTP: every kind and level, every bad-input class, idempotency, pause."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.core import lifecycle
from bot.core.runtime import Runtime
from models import Item, Outbox
from tests import payloads
from tests.conftest import LiveServer

EXPECTED = {
    "brief": ("read_only", "auto", "auto_accepted"),
    "summary": ("draft", "rep", "pending"),
    "recommendation": ("recommendation", "rep", "pending"),
    "task": ("task", "rep", "pending"),
    "field_update": ("crm_write", "rep", "pending"),
    "message_draft": ("external_message", "rep", "pending"),
    "decision": ("customer_decision", "manager", "pending"),
}


def item_count(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.exec(select(func.count()).select_from(Item)).one())


def assert_problem(response: httpx.Response, status: int, words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert words.lower() in body["detail"].lower(), body["detail"]
    return body


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_create_item_every_kind(api: httpx.Client, rt: Runtime, kind: str) -> None:
    response = api.post("/api/v1/items", json=payloads.EVERY_KIND[kind]())
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["level"], body["gate"], body["status"]) == EXPECTED[kind]
    assert body["authority"] == "advisory"
    view = api.get(f"/api/v1/items/{body['id']}").json()
    assert view["kind"] == kind
    assert [e["type"] for e in view["trace"]][:2] == ["received", body["status"]]
    assert item_count(rt) == 1


def test_create_item_stores_canonical_raw(api: httpx.Client, rt: Runtime) -> None:
    body = payloads.field_update()
    created = api.post("/api/v1/items", content=json.dumps(body, indent=4)).json()
    with rt.db.read() as session:
        item = session.get(Item, created["id"])
    assert item is not None
    assert item.raw == json.dumps(body, sort_keys=True, separators=(",", ":"))
    assert item.workflow_version == rt.spec("opp-hygiene").version


def test_create_item_queues_review_card(api: httpx.Client, rt: Runtime) -> None:
    created = api.post("/api/v1/items", json=payloads.field_update()).json()
    with rt.db.read() as session:
        kinds = session.exec(select(Outbox.kind).where(Outbox.item_id == created["id"])).all()
    assert kinds == ["slack.card"]


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        ({}, 401, "Authorization: Bearer"),
        ({"Authorization": "Bearer alk_nope_secret"}, 401, "unknown agent key"),
        ({"Authorization": "Bearer sk-live-123"}, 401, "not an Airlock agent key"),
        ({"Authorization": "Basic abc"}, 401, "Bearer"),
    ],
)
def test_create_item_bad_credentials(
    live: LiveServer, rt: Runtime, headers: dict[str, str], status: int, words: str
) -> None:
    response = httpx.post(
        f"{live.url}/api/v1/items", json=payloads.field_update(), headers=headers, trust_env=False
    )
    assert_problem(response, status, words)
    assert item_count(rt) == 0


def test_create_item_revoked_key(api: httpx.Client, rt: Runtime, agent_key: str) -> None:
    from bot.core import keys

    with rt.db.write() as session:
        keys.revoke_key(session, agent_key.split("_")[1])
    assert_problem(api.post("/api/v1/items", json=payloads.brief()), 401, "revoked")
    assert item_count(rt) == 0


def test_create_item_out_of_scope(live: LiveServer, rt: Runtime) -> None:
    from bot.core import keys

    with rt.db.write() as session:
        _row, secret = keys.create_key(session, agent="briefer", workflows=["account-brief"])
    response = httpx.post(
        f"{live.url}/api/v1/items",
        json=payloads.field_update(),
        headers={"Authorization": f"Bearer {secret}"},
        trust_env=False,
    )
    assert_problem(response, 403, "scoped to: account-brief")
    assert item_count(rt) == 0


@pytest.mark.parametrize(
    ("content", "status", "words"),
    [
        (b'{"workflow": "opp-hygiene", ', 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (json.dumps({"workflow": "opp-hygiene", "kind": "brief"}).encode(), 422, "title"),
        (json.dumps(payloads.field_update(kind="poem")).encode(), 422, "kind"),
        (json.dumps(payloads.field_update(confidence=1.5)).encode(), 422, "confidence"),
        (json.dumps(payloads.field_update(changes=[])).encode(), 422, "at least one"),
        (json.dumps(payloads.field_update(record=None)).encode(), 422, "need a record"),
        (json.dumps(payloads.field_update(confidense=0.5)).encode(), 422, "confidense"),
        (json.dumps(payloads.field_update(workflow="nope")).encode(), 404, "unknown workflow"),
    ],
)
def test_create_item_bad_body(
    api: httpx.Client, rt: Runtime, content: bytes, status: int, words: str
) -> None:
    response = api.post("/api/v1/items", content=content)
    body = assert_problem(response, status, words)
    if status == 422 and "errors" in body:
        assert all({"field", "message"} <= set(e) for e in body["errors"])
    assert item_count(rt) == 0


def test_create_item_field_outside_allowlist(api: httpx.Client, rt: Runtime) -> None:
    body = payloads.field_update(changes=[{"field": "Probability", "value": 90, "observed": 40}])
    problem = assert_problem(api.post("/api/v1/items", json=body), 403, "not in the allowlist")
    assert problem["verdict"] == "blocked"
    assert "Opportunity.StageName" in problem["detail"]
    assert item_count(rt) == 0
    with rt.db.read() as session:
        from models import Event

        refusals = session.exec(select(Event).where(Event.type == "refused")).all()
    assert [e.workflow_id for e in refusals] == ["opp-hygiene"]


def test_create_item_kind_outside_allowlist(api: httpx.Client, rt: Runtime) -> None:
    body = payloads.brief(workflow="opp-hygiene")
    assert_problem(api.post("/api/v1/items", json=body), 403, "kind 'brief' is not allowed")
    assert item_count(rt) == 0


def test_create_item_above_workflow_level(api: httpx.Client, rt: Runtime) -> None:
    body = payloads.recommendation(
        record={"sobject": "Opportunity", "id": payloads.OPP_ID},
        changes=[{"field": "StageName", "value": "Closed Won", "observed": "Proposal"}],
    )
    assert_problem(api.post("/api/v1/items", json=body), 403, "above the workflow's level")
    assert item_count(rt) == 0


def test_create_item_oversized_body(api: httpx.Client, rt: Runtime) -> None:
    body = payloads.brief(summary="x" * (rt.settings.max_body_bytes + 10))
    assert_problem(api.post("/api/v1/items", json=body), 413, "limit")
    assert item_count(rt) == 0


def test_create_item_replay_returns_first_answer(api: httpx.Client, rt: Runtime) -> None:
    body = payloads.field_update(idempotency_key="run-81:006Ax")
    first = api.post("/api/v1/items", json=body)
    second = api.post("/api/v1/items", json=body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert item_count(rt) == 1


def test_create_item_header_key_replay(api: httpx.Client, rt: Runtime) -> None:
    headers = {"Idempotency-Key": "hdr-1"}
    first = api.post("/api/v1/items", json=payloads.brief(), headers=headers).json()
    again = api.post("/api/v1/items", json=payloads.brief(), headers=headers).json()
    assert first["id"] == again["id"]
    assert item_count(rt) == 1


def test_create_item_same_key_other_body_conflicts(api: httpx.Client, rt: Runtime) -> None:
    api.post("/api/v1/items", json=payloads.field_update(idempotency_key="k1"))
    other = payloads.field_update(idempotency_key="k1", title="Something else")
    assert_problem(api.post("/api/v1/items", json=other), 409, "different body")
    assert item_count(rt) == 1


def test_create_item_conflicting_keys_refused(api: httpx.Client, rt: Runtime) -> None:
    body = payloads.brief(idempotency_key="a")
    response = api.post("/api/v1/items", json=body, headers={"Idempotency-Key": "b"})
    assert_problem(response, 422, "differ")
    assert item_count(rt) == 0


def test_create_item_held_when_paused(api: httpx.Client, rt: Runtime) -> None:
    with rt.db.write() as session:
        lifecycle.set_paused(
            session, "opp-hygiene", paused=True, actor="user:U0OLIVIA", reason="bad data"
        )
    body = api.post("/api/v1/items", json=payloads.field_update()).json()
    assert body["status"] == "held"
    assert body["gate"] == "rep"
    workflow = api.get("/api/v1/workflows/opp-hygiene").json()
    assert workflow["paused"] is True
    assert workflow["paused_reason"] == "bad data"
    assert workflow["metrics"]["items"] == {"held": 1}


@pytest.mark.parametrize(
    ("body", "gate", "reason"),
    [
        (
            payloads.field_update(changes=[{"field": "Amount", "value": 5000, "observed": 4000}]),
            "manager",
            "forecast fields",
        ),
        (payloads.field_update(confidence=0.5), "manager", "low confidence"),
        (payloads.field_update(confidence=0.3), "manager", "check confidence failed"),
        (payloads.field_update(sources=[]), "block", "check grounded failed"),
        (payloads.field_update(summary="We guarantee delivery"), "block", "banned_terms"),
        (
            payloads.message_draft(message={"to": "Pat, CFO <pat@acme.example>", "body": "Hi"}),
            "manager",
            "executive recipient",
        ),
        (
            payloads.message_draft(message={"to": "dana@acme.example", "body": "20% discount"}),
            "manager",
            "pricing language",
        ),
    ],
)
def test_create_item_gate_rules(
    api: httpx.Client, body: dict[str, Any], gate: str, reason: str
) -> None:
    created = api.post("/api/v1/items", json=body).json()
    assert created["gate"] == gate
    assert created["status"] == ("blocked" if gate == "block" else "pending")
    assert any(reason in r for r in created["gate_reasons"]), created["gate_reasons"]


def test_create_item_shadow_mode_records_only(api: httpx.Client, rt: Runtime) -> None:
    path = rt.settings.workflows_dir / "opp-hygiene.yml"
    path.write_text(path.read_text().replace("mode: review", "mode: shadow"))
    from bot.base.specs import load_specs

    rt.specs = load_specs(rt.settings.workflows_dir)
    created = api.post("/api/v1/items", json=payloads.field_update()).json()
    assert (created["status"], created["gate"]) == ("shadowed", "rep")
    with rt.db.read() as session:
        assert session.exec(select(Outbox)).all() == []


def test_list_workflows_shows_state(api: httpx.Client) -> None:
    listed = api.get("/api/v1/workflows").json()["workflows"]
    assert {w["id"] for w in listed} == {
        "account-brief",
        "call-summary-cleanup",
        "exec-outreach",
        "opp-hygiene",
        "renewal-risk",
    }
    assert all(w["state"] == "active" for w in listed)
    assert_problem(api.get("/api/v1/workflows/nope"), 404, "unknown workflow")


def test_get_item_unknown(api: httpx.Client) -> None:
    assert_problem(api.get("/api/v1/items/itm_missing"), 404, "does not exist")


def test_health_metrics_openapi(api: httpx.Client) -> None:
    assert api.get("/healthz").json()["status"] == "ok"
    api.post("/api/v1/items", json=payloads.brief())
    metrics = api.get("/metrics").text
    assert (
        'airlock_items_total{gate="auto",status="auto_accepted",workflow="account-brief"} 1.0'
        in metrics
    )
    spec = api.get("/openapi.json").json()
    assert "/api/v1/items" in spec["paths"]
    assert_problem(api.get("/nowhere"), 404, "no such endpoint")


@pytest.mark.parametrize("token", ["alk_nokey_wrongsecret", "alk_x_y"])
def test_create_item_unknown_workflow_unauthenticated_is_401(
    live: LiveServer, rt: Runtime, token: str
) -> None:
    # Authenticate first: a stranger must not learn which workflows exist from a 404.
    response = httpx.post(
        f"{live.url}/api/v1/items",
        json=payloads.field_update(workflow="nope"),
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
    )
    body = assert_problem(response, 401, "")
    assert "opp-hygiene" not in response.text and "unknown workflow" not in body["detail"]


def test_create_item_unknown_workflow_out_of_scope_is_403(live: LiveServer, rt: Runtime) -> None:
    from bot.core import keys

    with rt.db.write() as session:
        _row, secret = keys.create_key(session, agent="briefer", workflows=["account-brief"])
    response = httpx.post(
        f"{live.url}/api/v1/items",
        json=payloads.field_update(workflow="nope"),
        headers={"Authorization": f"Bearer {secret}"},
        trust_env=False,
    )
    assert_problem(response, 403, "scoped to: account-brief")
    assert "opp-hygiene" not in response.text


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"sobject": "Case", "id": "500Ai0000000001IAA"}, "tasks on Case are not allowed"),
        ({"sobject": "Opportunity", "id": "001Ai0000000001IAA"}, "001 is an Account id"),
    ],
)
def test_create_item_task_on_refused(
    api: httpx.Client, rt: Runtime, record: dict[str, str], words: str
) -> None:
    response = api.post("/api/v1/items", json=payloads.task(record=record))
    body = assert_problem(response, 403, words)
    assert body["verdict"] == "blocked"
    assert item_count(rt) == 0
