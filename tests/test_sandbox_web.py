"""The /sandbox page's JSON endpoints: each action goes through the signed /slack/events path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.base.config import Settings
from bot.core.runtime import Runtime
from bot.sandbox.boot import seed_slack_users
from bot.sandbox.salesforce_seed import SEED_PEOPLE
from bot.sandbox.samples import OPP_ID, PLANT_OPP_ID, SAMPLES
from bot.sandbox.slack_standin import SlackStandin
from bot.service import Service, build_service
from models import Event, Item
from tests.conftest import LiveServer
from tests.slack_driver import wait_for

MAYA, SAM = "U0MAYA", "U0SAM"


@pytest.fixture
def page(live: LiveServer) -> Iterator[httpx.Client]:
    """A client of the sandbox page's endpoints."""
    with httpx.Client(base_url=f"{live.url}/sandbox", timeout=15, trust_env=False) as client:
        yield client


def state(page: httpx.Client, user: str, item: str | None = None) -> dict[str, Any]:
    params = {"user": user} | ({"item": item} if item else {})
    response = page.get("/api/state", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def submit_sample(page: httpx.Client, name: str) -> str:
    response = page.post("/api/items", json={"sample": name})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == 201, result
    return str(result["answer"]["id"])


def card_of(page: httpx.Client, user: str, item_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        messages = state(page, user)["person"]["messages"]
        return next((m for m in messages if item_id in str(m["blocks"])), None)

    return dict(wait_for(find))


def stored(rt: Runtime, item_id: str) -> Item:
    with rt.db.read() as session:
        item = session.get(Item, item_id, populate_existing=True)
    assert item is not None
    return item


def test_serve_page_and_static_files(page: httpx.Client, live: LiveServer) -> None:
    html = page.get(f"{live.url}/sandbox")
    assert html.status_code == 200
    assert "<title>Airlock sandbox</title>" in html.text
    script = page.get("/static/blockkit.js")
    assert script.status_code == 200
    assert "window.BlockKit" in script.text
    root = page.get(f"{live.url}/")
    assert (root.status_code, root.headers["location"]) == (307, "/sandbox")


def test_boot_lists_people_and_samples(page: httpx.Client) -> None:
    boot = page.get("/api/boot").json()
    people = {p["id"]: p["roles"] for p in boot["people"]}
    assert list(people) == [p.slack_id for p in SEED_PEOPLE]
    assert people["U0MAYA"] == ["rep"]
    assert people["U0SAM"] == ["manager"]
    assert people["U0OLIVIA"] == ["owner"]  # the test settings make U0ADMIN the admin
    assert [s["name"] for s in boot["samples"]] == list(SAMPLES)


@pytest.mark.parametrize("name", list(SAMPLES))
def test_sample_reaches_named_reviewer(page: httpx.Client, rt: Runtime, name: str) -> None:
    sample = SAMPLES[name]
    item_id = submit_sample(page, name)
    if sample.reviewer is None:
        assert stored(rt, item_id).status == "auto_accepted"
        return
    card = card_of(page, sample.reviewer, item_id)
    assert "airlock_approve" in str(card["blocks"])
    assert stored(rt, item_id).assignee == sample.reviewer


def test_approve_click_reaches_slack_and_salesforce(
    page: httpx.Client, rt: Runtime, service: Service
) -> None:
    item_id = submit_sample(page, "stage")
    card = card_of(page, MAYA, item_id)
    click = {"user": MAYA, "action_id": "airlock_approve", "value": item_id}
    answer = page.post("/api/click", json=click | {"channel": card["channel"], "ts": card["ts"]})
    assert answer.json()["status"] == 200
    assert wait_for(lambda: stored(rt, item_id).writeback_state == "written")
    with rt.db.read() as session:
        actors = session.exec(
            select(Event.actor).where(col(Event.stream) == item_id, col(Event.type) == "approved")
        ).all()
    assert list(actors) == [f"user:{MAYA}"]
    writes = state(page, MAYA)["salesforce"]["writes"]
    assert writes[0]["id"] == OPP_ID
    assert writes[0]["fields"]["StageName"] == "Negotiation/Review"
    assert writes[0]["name"] == "Acme Corp - Renewal 2027"
    updated = wait_for(
        lambda: (c := card_of(page, MAYA, item_id)) and f"by <@{MAYA}>" in str(c["blocks"]) and c
    )
    assert updated["ts"] == card["ts"]
    assert "airlock_approve" not in str(updated["blocks"])


def test_edit_modal_errors_then_submit(page: httpx.Client, rt: Runtime) -> None:
    item_id = submit_sample(page, "amount")
    card = card_of(page, SAM, item_id)
    edit = {"user": SAM, "action_id": "airlock_edit", "value": item_id}
    page.post("/api/click", json=edit | {"channel": card["channel"], "ts": card["ts"]})
    modal = wait_for(lambda: state(page, SAM)["person"]["modal"])
    assert state(page, MAYA)["person"]["modal"] is None
    amount = next(b for b in modal["blocks"] if b.get("block_id") == "edit:Amount")
    assert amount["element"]["type"] == "number_input"
    form = {"user": SAM, "view_id": modal["id"]}
    bad = {"edit:Amount": {"action_id": "value", "type": "number_input", "value": "lots"}}
    refused = page.post("/api/submit", json=form | {"values": bad}).json()
    assert refused["answer"] == {
        "response_action": "errors",
        "errors": {"edit:Amount": "'lots' is not a number"},
    }
    assert state(page, SAM)["person"]["modal"]["id"] == modal["id"]
    good = {"edit:Amount": {"action_id": "value", "type": "number_input", "value": "175000"}}
    accepted = page.post("/api/submit", json=form | {"values": good}).json()
    assert accepted == {"status": 200, "answer": {}}
    assert state(page, SAM)["person"]["modal"] is None
    assert stored(rt, item_id).decision == {
        "verdict": "edited",
        "edits": {"Amount": {"from": 180000, "to": 175000}},
        "declined": [],
    }
    writes = wait_for(lambda: state(page, SAM)["salesforce"]["writes"])
    assert (writes[0]["id"], writes[0]["fields"]) == (PLANT_OPP_ID, {"Amount": 175000})


def test_submit_to_closed_modal_refused(page: httpx.Client) -> None:
    answer = page.post("/api/submit", json={"user": MAYA, "view_id": "V0NOPE", "values": {}})
    assert answer.status_code == 404
    assert "is not open" in answer.json()["detail"]


def test_command_and_home_answer(page: httpx.Client) -> None:
    help_answer = page.post("/api/command", json={"user": MAYA, "text": "help"}).json()
    assert help_answer["status"] == 200
    assert "pause <workflow|all>" in help_answer["answer"]["text"]
    assert page.post("/api/home", json={"user": MAYA}).json()["status"] == 200
    home = wait_for(lambda: state(page, MAYA)["person"]["home"])
    assert home["blocks"][0]["text"]["text"] == "Waiting for you"
    assert state(page, SAM)["person"]["home"] is None


def test_trace_and_items_listed(page: httpx.Client) -> None:
    item_id = submit_sample(page, "brief")
    shown = state(page, MAYA, item_id)
    assert shown["items"][0]["id"] == item_id
    assert shown["items"][0]["status"] == "auto_accepted"
    assert [e["type"] for e in shown["trace"]["trace"]][:2] == ["received", "auto_accepted"]
    assert state(page, MAYA, "itm_missing")["trace"] is None


def test_unknown_sample_refused(page: httpx.Client) -> None:
    answer = page.post("/api/items", json={"sample": "nope"})
    assert answer.status_code == 404
    assert "samples: stage" in answer.json()["detail"]


def test_salesforce_edit_changes_record(page: httpx.Client, service: Service) -> None:
    org = service.integrations.sandbox.salesforce
    assert org is not None
    edit = {"id": OPP_ID, "field": "NextStep", "value": "Legal signed"}
    assert page.post("/api/salesforce/edit", json=edit).status_code == 200
    assert (org.get("Opportunity", OPP_ID) or {})["NextStep"] == "Legal signed"
    amount = page.post("/api/salesforce/edit", json=edit | {"field": "Amount", "value": "9.5k"})
    assert amount.status_code == 422
    owner = page.post("/api/salesforce/edit", json=edit | {"field": "OwnerId"})
    assert owner.status_code == 422
    assert org.applied_writes() == []  # a person's edit, not an API write


def test_page_absent_with_real_slack(settings: Settings, rt: Runtime) -> None:
    # A Slack that answers (and refuses the token) at once: a closed port would have slack_sdk's
    # connection retries sleep for seconds.
    with SlackStandin(users=seed_slack_users()) as workspace:
        real = settings.model_copy(
            update={
                "slack_bot_token": "xoxb-real",
                "slack_signing_secret": "real-secret",
                "slack_api_url": workspace.base_url,
                # Salesforce stays on its stand-in: with a real Slack that must be asked for.
                "sandbox": "on",
            }
        )
        service = build_service(real, rt)
        with LiveServer(service.app) as server:
            answer = httpx.get(f"{server.url}/sandbox", trust_env=False)
    assert answer.status_code == 404
    assert not hasattr(service.app.state, "sandbox")
