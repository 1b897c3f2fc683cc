"""The review loop end to end over HTTP: cards, Approve / Edit / Reject, who may decide."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.core.runtime import Runtime
from bot.sandbox.slack_blockkit import check_view
from bot.sandbox.slack_payloads import select_state, text_state
from bot.service import Service
from bot.slack.ids import REJECT_BLOCK, REJECT_TEXT_BLOCK, Action
from models import Event, Item, Outbox
from tests import payloads
from tests.conftest import LiveServer
from tests.slack_driver import SlackDriver, wait_for

REP, MANAGER, ADMIN, STRANGER = "U0MAYA", "U0SAM", "U0OLIVIA", "U0PRIYA"


@pytest.fixture
def slack(live: LiveServer, service: Service) -> Iterator[SlackDriver]:
    driver = SlackDriver(live.url, service)
    yield driver
    driver.http.close()


def item(rt: Runtime, item_id: str) -> Item:
    with rt.db.read() as session:
        found = session.get(Item, item_id, populate_existing=True)
    assert found is not None
    return found


def submit(api: httpx.Client, body: dict[str, Any]) -> str:
    response = api.post("/api/v1/items", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def posted(rt: Runtime, item_id: str, timeout: float = 10) -> Item:
    found: Item = wait_for(lambda: (i := item(rt, item_id)).card_ts and i, timeout)
    return found


def card_saying(slack: SlackDriver, item_id: str, words: str) -> dict[str, Any] | None:
    card = slack.card(REP, item_id)
    return card if words in json.dumps(card["blocks"]) else None


def service_org_stages(slack: SlackDriver) -> list[str]:
    salesforce = slack.service.integrations.salesforce
    describe = salesforce.describe("Opportunity")
    [stage] = [f for f in describe["fields"] if f["name"] == "StageName"]
    return [v["value"] for v in stage["picklistValues"] if v.get("active", True)]


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    elements = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return [e for e in elements if e["type"] == "button"]


def test_post_card_to_record_owner(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    item_id = submit(api, payloads.field_update())
    stored = posted(rt, item_id)
    assert stored.assignee == REP
    card = slack.card(REP, item_id)
    assert [(b["text"]["text"], b["value"]) for b in buttons(card)] == [
        ("Approve", item_id),
        ("Edit", item_id),
        ("Reject", item_id),
    ]
    text = json.dumps(card["blocks"])
    for words in (
        "Why",
        "Sources",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "82%",
        "crm_write",
        "advisory",
    ):
        assert words in text
    assert len(slack.slack.calls_to("chat.postMessage")) == 1


def test_approve_rerenders_card(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    item_id = submit(api, payloads.field_update())
    stored = posted(rt, item_id)
    started = time.monotonic()
    response = slack.click(
        REP, Action.APPROVE, item_id, channel=stored.card_channel, ts=stored.card_ts
    )
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    decided = wait_for(lambda: (i := item(rt, item_id)).status != "pending" and i)
    assert (decided.status, decided.authority, decided.decided_by) == ("approved", "confirmed", REP)
    card = wait_for(lambda: card_saying(slack, item_id, "Approved* by <@U0MAYA>"))
    assert buttons(card) == []
    assert card["ts"] == stored.card_ts


def test_forged_and_stale_signatures_refused(
    api: httpx.Client, rt: Runtime, slack: SlackDriver
) -> None:
    from bot.sandbox.slack_payloads import block_action
    from bot.sandbox.slack_signing import FORM_CONTENT_TYPE, form_body, sign

    item_id = submit(api, payloads.field_update())
    body = form_body(block_action(REP, Action.APPROVE, item_id, channel="D1", ts="1.1"))
    forged = sign("not-the-secret", body, content_type=FORM_CONTENT_TYPE)
    assert slack.http.post(slack.url, content=body, headers=forged).status_code == 401
    stale = slack.send(body, FORM_CONTENT_TYPE, timestamp=int(time.time()) - 600)
    assert stale.status_code == 401
    tampered = sign(slack.secret, body, content_type=FORM_CONTENT_TYPE)
    assert slack.http.post(slack.url, content=body + b"x", headers=tampered).status_code == 401
    assert item(rt, item_id).status == "pending"


def test_stranger_click_refused(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    item_id = submit(api, payloads.field_update())
    stored = posted(rt, item_id)
    slack.click(STRANGER, Action.APPROVE, item_id, channel=stored.card_channel, ts=stored.card_ts)
    ephemeral = wait_for(lambda: slack.slack.calls_to("chat.postEphemeral"))
    assert ephemeral[-1].params["user"] == STRANGER
    assert "only <@U0MAYA>" in ephemeral[-1].params["text"]
    assert item(rt, item_id).status == "pending"
    with rt.db.read() as session:
        refusals = session.exec(
            select(Event).where(Event.stream == item_id, Event.type == "decision_refused")
        ).all()
    assert [e.actor for e in refusals] == [f"user:{STRANGER}"]


def test_double_and_concurrent_clicks_decide_once(
    api: httpx.Client, rt: Runtime, slack: SlackDriver
) -> None:
    item_id = submit(api, payloads.field_update())
    stored = posted(rt, item_id)
    where = {"channel": stored.card_channel, "ts": stored.card_ts}
    statuses: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: statuses.append(
                slack.click(REP, Action.APPROVE, item_id, **where).status_code
            )
        )
        for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 20

    def already() -> list[Any]:
        calls = slack.slack.calls_to("chat.postEphemeral")
        return [c for c in calls if "already approved by U0MAYA" in c.params["text"]]

    wait_for(lambda: len(already()) == 19)
    with rt.db.read() as session:
        approvals = session.exec(
            select(Event).where(Event.stream == item_id, Event.type == "approved")
        ).all()
        writes = session.exec(
            select(Outbox).where(Outbox.item_id == item_id, Outbox.kind == "salesforce.write")
        ).all()
    assert len(approvals) == 1
    assert len(writes) == 1


def test_slack_outage_posts_card_once(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    slack.slack.fail_next("chat.postMessage", status=429, retry_after=1, times=3)
    slack.slack.fail_next("chat.postMessage", status=503, times=3)
    item_id = submit(api, payloads.field_update())
    posted(rt, item_id, timeout=30)  # Retry-After, then the outbox's own backoff
    # Only this item's card counts: other DMs (the 09:00 UTC digest) may go out during the test.
    cards = [c for c in slack.slack.calls_to("chat.postMessage") if item_id in json.dumps(c.params)]
    assert len([c for c in cards if c.status == 200]) == 1
    assert len(cards) >= 4
    assert len([m for m in slack.slack.messages_for(REP) if item_id in json.dumps(m.blocks)]) == 1


def test_edit_modal_writes_edited_value(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    item_id = submit(api, payloads.field_update())
    stored = posted(rt, item_id)
    slack.click(REP, Action.EDIT, item_id, channel=stored.card_channel, ts=stored.card_ts)
    view = wait_for(lambda: slack.slack.calls_to("views.open") and slack.last_view())
    block = next(b for b in view["blocks"] if b.get("block_id") == "edit:StageName")
    # The choices are the org's own StageName values, from the describe cache.
    org = service_org_stages(slack)
    assert [o["value"] for o in block["element"]["options"]] == org
    assert block["element"]["initial_option"]["value"] == "Negotiation/Review"
    response = slack.submit(REP, view, {"edit:StageName": select_state("Value Proposition")})
    assert response.status_code == 200
    assert response.content in (b"", b"{}")
    edited = item(rt, item_id)
    assert edited.status == "edited"
    assert edited.decision == {
        "verdict": "edited",
        "edits": {"StageName": {"from": "Negotiation/Review", "to": "Value Proposition"}},
        "declined": [],
    }


def test_edit_modal_shows_invalid_input(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    body = payloads.field_update(changes=[{"field": "Amount", "value": 90000, "observed": 84000}])
    item_id = submit(api, body)
    stored = posted(rt, item_id)
    slack.click(
        stored.assignee or "", Action.EDIT, item_id, channel=stored.card_channel, ts=stored.card_ts
    )
    view = wait_for(lambda: slack.slack.calls_to("views.open") and slack.last_view())
    response = slack.submit(stored.assignee or "", view, {"edit:Amount": text_state("lots")})
    assert response.json() == {
        "response_action": "errors",
        "errors": {"edit:Amount": "'lots' is not a number"},
    }
    assert item(rt, item_id).status == "pending"


def test_reject_records_reason(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    item_id = submit(api, payloads.field_update())
    stored = posted(rt, item_id)
    slack.click(REP, Action.REJECT, item_id, channel=stored.card_channel, ts=stored.card_ts)
    view = wait_for(lambda: slack.slack.calls_to("views.open") and slack.last_view())
    missing = slack.submit(REP, view, {REJECT_BLOCK: select_state("other")})
    assert missing.json()["errors"] == {REJECT_TEXT_BLOCK: "Say what was wrong when you pick Other"}
    done = slack.submit(
        REP,
        view,
        {
            REJECT_BLOCK: select_state("wrong_record"),
            REJECT_TEXT_BLOCK: text_state("That is the 2025 deal"),
        },
    )
    assert done.status_code == 200
    rejected = item(rt, item_id)
    assert rejected.status == "rejected"
    assert rejected.decision == {
        "verdict": "rejected",
        "reason": "wrong_record",
        "text": "That is the 2025 deal",
    }
    card = wait_for(lambda: card_saying(slack, item_id, "Rejected* by <@U0MAYA>"))
    assert "wrong record" in json.dumps(card["blocks"])


def test_slash_commands(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    item_id = submit(api, payloads.field_update())
    posted(rt, item_id)
    assert "pause <workflow|all>" in slack.said(REP, "")["text"]
    assert "I don't know `frobnicate`" in slack.said(REP, "frobnicate")["text"]
    assert item_id in slack.said(REP, "queue")["text"]
    assert "received" in slack.said(REP, f"trace {item_id}")["text"]
    stats = slack.said(REP, "stats opp-hygiene")["text"]
    assert stats.startswith("*opp-hygiene*: 1 received, 1 waiting for a decision")
    paused = slack.said(REP, "pause opp-hygiene wrong stages")
    assert paused["response_type"] == "in_channel"
    assert "paused `opp-hygiene` (wrong stages)" in paused["text"]
    assert "PAUSED (wrong stages)" in slack.said(REP, "status opp-hygiene")["text"]
    refused = slack.said(REP, "resume opp-hygiene")
    assert refused["response_type"] == "ephemeral"
    assert "only the owner" in refused["text"]
    assert "resumed" in slack.said(ADMIN, "resume opp-hygiene")["text"]
    assert "unknown workflow 'nope'" in slack.said(REP, "status nope")["text"]


def test_home_tab_and_event_dedupe(api: httpx.Client, rt: Runtime, slack: SlackDriver) -> None:
    item_id = submit(api, payloads.field_update())
    posted(rt, item_id)
    event = {"type": "app_home_opened", "user": REP, "tab": "home", "channel": "D0MAYA"}
    assert slack.event(event, "Ev001").status_code == 200
    assert slack.event(event, "Ev001", retry=1).status_code == 200
    home = wait_for(lambda: slack.slack.home_view(REP))
    time.sleep(0.3)
    assert len(slack.slack.calls_to("views.publish")) == 1
    text = json.dumps(home.view["blocks"])
    assert item_id in text and "Waiting for you" in text and "Workflows" in text
    assert "airlock_home_pause" not in text  # reps cannot resume, so no control buttons
    slack.event(event | {"user": ADMIN}, "Ev002")
    admin_home = wait_for(lambda: slack.slack.home_view(ADMIN))
    assert "airlock_home_pause" in json.dumps(admin_home.view["blocks"])


def test_manager_decides_manager_gated_item(
    api: httpx.Client, rt: Runtime, slack: SlackDriver
) -> None:
    item_id = submit(
        api, payloads.decision(record={"sobject": "Opportunity", "id": payloads.OPP_ID})
    )
    stored = posted(rt, item_id)
    assert stored.gate == "manager"
    assert stored.assignee == MANAGER
    slack.click(MANAGER, Action.APPROVE, item_id, channel=stored.card_channel, ts=stored.card_ts)
    assert wait_for(lambda: item(rt, item_id).status == "approved")
    with rt.db.read() as session:
        events = session.exec(
            select(Event.type).where(Event.stream == item_id).order_by(col(Event.seq))
        ).all()
    assert list(events)[:4] == ["received", "pending", "assigned", "card_posted"]


def test_edit_long_summary_read_only_and_refusal_shown(
    api: httpx.Client, rt: Runtime, slack: SlackDriver
) -> None:
    long_summary = "Decisions: legal review. " * 200  # 5,000 characters: too long to pre-fill
    item_id = submit(api, payloads.summary(summary=long_summary))
    stored = posted(rt, item_id)
    user = stored.assignee or ""
    slack.click(user, Action.EDIT, item_id, channel=stored.card_channel, ts=stored.card_ts)
    view = wait_for(lambda: slack.slack.calls_to("views.open") and slack.last_view())
    assert [b for b in view["blocks"] if b["type"] == "input"] == []
    slack.click(user, Action.APPROVE, item_id, channel=stored.card_channel, ts=stored.card_ts)
    wait_for(lambda: item(rt, item_id).status == "approved")
    answer = slack.submit(user, view, {}).json()
    assert answer["response_action"] == "update"
    check_view("response_action", answer["view"])
    assert "was already approved by" in json.dumps(answer["view"])
    assert item(rt, item_id).summary == long_summary.strip()
