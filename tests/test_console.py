"""/console in-process: sign-in, rights, workflow pages, items, trace, patterns, audit, evidence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from bot.core import control, decisions, lifecycle
from bot.core.lift import MetricLift
from bot.core.runtime import Runtime
from bot.reporting.console_access import viewer_for
from bot.reporting.console_items import ItemFilter, page_items
from bot.reporting.outcomes import WorkflowOutcomes
from bot.sandbox.samples import PLANT_OPP_ID
from bot.server import create_app
from handlers.console_auth import COOKIE, Signer
from handlers.console_patterns import outcomes_body
from models import Event, Item
from tests import payloads
from tests.test_lifecycle import assign, post

OWNER, SAM, MAYA, LEO, ADMIN = "U0OLIVIA", "U0SAM", "U0MAYA", "U0LEO", "U0ADMIN"


@pytest.fixture
def web(rt: Runtime) -> Iterator[TestClient]:
    """The app in-process, without its workers (no lifespan)."""
    yield TestClient(create_app(rt), follow_redirects=False)


def sign_in(web: TestClient, user: str) -> TestClient:
    answer = web.post("/console/signin", data={"user": user})
    assert answer.status_code == 303, answer.text
    return web


@pytest.fixture
def items(rt: Runtime, agent_key: str) -> dict[str, str]:
    """Maya's two items (one rejected), Leo's one; Sam manages Maya's."""
    ids = {
        name: post(rt, agent_key, payloads.field_update(idempotency_key=name))
        for name in ("maya1", "maya2", "leo")
    }
    for name, item_id in ids.items():
        assign(rt, item_id, MAYA if name.startswith("maya") else LEO)
    with rt.db.write() as session:
        for name in ("maya1", "maya2"):
            lifecycle.update_item(
                session, ids[name], actor="system", event="manager_known", data={}, manager=SAM
            )
    decisions.reject(rt, ids["maya2"], MAYA, "inaccurate", "stage is wrong")
    return ids


def test_console_sends_strangers_to_sign_in(web: TestClient) -> None:
    assert web.get("/console").headers["location"] == "/console/signin"
    page = web.get("/console/signin").text
    assert 'name="user"' in page and "Maya Chen" in page and ADMIN in page
    assert web.post("/console/signin", data={"user": "U0NOBODY"}).status_code == 401


def test_refuse_a_forged_or_expired_session() -> None:
    signer = Signer("s3cret")
    value = signer.issue(MAYA, now=1000.0)
    assert signer.read(value, now=1001.0) == MAYA
    assert signer.read(value, now=1000.0 + 9 * 3600) is None  # expired
    payload, mac = value.rsplit(".", 1)
    assert signer.read(f"{payload}.{'0' * len(mac)}", now=1001.0) is None
    assert Signer("other").read(value, now=1001.0) is None


def test_owner_sees_workflow_spec_and_state(web: TestClient, items: dict[str, str]) -> None:
    sign_in(web, OWNER)
    listing = web.get("/console").text
    assert "/console/workflows/opp-hygiene" in listing and "active" in listing
    page = web.get("/console/workflows/opp-hygiene").text
    for section in ("trigger", "failure_modes", "success_metric", "escalation", "allowed_outputs"):
        assert f"<b>{section}</b>" in page
    assert "Opportunity.StageName" in page
    access = web.get("/console/access").text
    assert "Salesforce field Opportunity.StageName" in access


def test_paused_workflow_shows_by_whom_and_why(rt: Runtime, web: TestClient) -> None:
    control.pause(rt, "opp-hygiene", OWNER, "bad stages")
    page = sign_in(web, OWNER).get("/console/workflows/opp-hygiene").text
    assert "paused" in page and "user:U0OLIVIA" in page and "bad stages" in page


def test_rep_sees_only_own_items(web: TestClient, items: dict[str, str]) -> None:
    sign_in(web, MAYA)
    listing = web.get("/console/items").text
    assert items["maya1"] in listing and items["maya2"] in listing
    assert items["leo"] not in listing
    assert web.get(f"/console/items/{items['leo']}").status_code == 403
    assert web.get("/console/workflows/opp-hygiene").status_code == 403
    assert web.get("/console/audit").status_code == 403
    assert web.get("/console/evidence?workflow=opp-hygiene").status_code == 403


def test_manager_sees_team_items(web: TestClient, items: dict[str, str]) -> None:
    sign_in(web, SAM)
    listing = web.get("/console/items").text
    assert items["maya1"] in listing and items["leo"] not in listing
    assert web.get(f"/console/items/{items['maya1']}").status_code == 200


def test_person_without_rights_refused(web: TestClient, items: dict[str, str]) -> None:
    answer = sign_in(web, "U0PRIYA").get("/console")
    assert answer.status_code == 403 and "no workflow, team or item" in answer.text


def test_filter_items(web: TestClient, items: dict[str, str]) -> None:
    sign_in(web, OWNER)
    rejected = web.get("/console/items", params={"status": "rejected"}).text
    assert items["maya2"] in rejected and items["maya1"] not in rejected
    by_reviewer = web.get("/console/items", params={"reviewer": LEO}).text
    assert items["leo"] in by_reviewer and items["maya1"] not in by_reviewer
    assert web.get("/console/items", params={"since": "yesterday"}).status_code == 422
    by_agent = web.get("/console/items", params={"agent": "test-agent"}).text
    assert all(item_id in by_agent for item_id in items.values())
    assert "No items match" in web.get("/console/items", params={"agent": "nobody"}).text


def test_filter_items_by_any_form_of_a_record_id(rt: Runtime, agent_key: str) -> None:
    on_opp = post(rt, agent_key, payloads.field_update(idempotency_key="opp"))
    other = {"sobject": "Opportunity", "id": PLANT_OPP_ID}
    post(rt, agent_key, payloads.field_update(idempotency_key="plant", record=other))
    viewer = viewer_for(rt, ADMIN)
    with rt.db.read() as session:
        for form in (payloads.OPP_ID, payloads.OPP_ID[:15], payloads.OPP_ID.lower()):
            found = page_items(session, viewer, ItemFilter(record=form), None)
            assert [i.id for i in found.items] == [on_opp], form


def test_page_items_by_keyset(rt: Runtime, agent_key: str) -> None:
    made = {post(rt, agent_key, payloads.field_update(idempotency_key=f"k{i}")) for i in range(7)}
    viewer = viewer_for(rt, ADMIN)
    seen: list[str] = []
    cursor = None
    with rt.db.read() as session:
        while True:
            found = page_items(session, viewer, ItemFilter(), cursor, limit=3)
            seen += [i.id for i in found.items]
            if found.next_cursor is None:
                break
            cursor = found.next_cursor
    assert len(seen) == 7 and set(seen) == made


def test_trace_page_shows_every_event_escaped(rt: Runtime, web: TestClient, agent_key: str) -> None:
    body = payloads.field_update(idempotency_key="x", title="<script>alert(1)</script>")
    item_id = post(rt, agent_key, body)
    assign(rt, item_id, MAYA)
    decisions.approve(rt, item_id, MAYA)
    page = sign_in(web, OWNER).get(f"/console/items/{item_id}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    with rt.db.read() as session:
        events = session.exec(select(Event).where(Event.item_id == item_id)).all()
    for event in events:
        assert f"<td>{event.type}</td>" in page
    assert f"user:{MAYA}" in page and "What Salesforce received" in page


def test_patterns_draw_charts(web: TestClient, items: dict[str, str]) -> None:
    page = sign_in(web, OWNER).get("/console/patterns", params={"workflow": "opp-hygiene"}).text
    assert page.count("<svg") == 5 and "<polyline" in page
    assert "inaccurate" in page  # the top reject reason
    # one agent's share: 3 items, 1 decided (rejected)
    assert (
        "<td>opp-hygiene</td><td>test-agent</td><td>3</td><td>1</td><td>0%</td><td>100%</td>"
        in page
    )
    assert sign_in(web, OWNER).get("/console/patterns?days=0").status_code == 422


def test_console_changes_nothing(rt: Runtime, web: TestClient, items: dict[str, str]) -> None:
    def snapshot() -> tuple[int, list[tuple[str, str]]]:
        with rt.db.read() as session:
            events = session.exec(select(func.count()).select_from(Event)).one()
            rows = [(i.id, i.status) for i in session.exec(select(Item))]
        return events, sorted(rows)

    before = snapshot()
    sign_in(web, ADMIN)
    for path in ("", "/access", "/items", f"/items/{items['leo']}", "/patterns", "/audit?run=1"):
        assert web.get(f"/console{path}").status_code == 200, path
    assert snapshot() == before
    assert web.cookies.get(COOKIE)


def test_patterns_show_segments(rt: Runtime, web: TestClient, items: dict[str, str]) -> None:
    with rt.db.write() as session:
        for name, segment in (("maya1", "Energy"), ("maya2", "Energy"), ("leo", "Retail")):
            lifecycle.update_item(
                session, items[name], actor="system", event="segmented", data={}, segment=segment
            )
    page = sign_in(web, OWNER).get("/console/patterns").text
    assert "<td>Energy</td><td>2</td><td>1</td><td>0%</td>" in page
    assert "<td>Retail</td><td>1</td><td>0</td><td>-</td>" in page


def test_outcome_lift_rows() -> None:
    lift = MetricLift("stage_advanced", 180, 20, 0.34, 0.1, 0.24, 0.09, 0.34, True, 61, 2)
    found = WorkflowOutcomes("opp-hygiene", "30d", 0.1, [lift], {"Energy": [lift]})
    body = outcomes_body([found])
    assert body.count("stage_advanced: treated 34% (61/180) vs holdout 10% (2/20)") == 2
    assert "<td>Energy</td>" in body and outcomes_body([]) == ""
