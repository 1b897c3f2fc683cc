"""Lifecycle on a real database: compare-and-set decisions, audit events, pause and resume."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import col, select

from bot.base.errors import AlreadyDecided, Conflict
from bot.base.levels import Status
from bot.core import control, decisions, lifecycle
from bot.core.intake import submit
from bot.core.runtime import Runtime
from models import Event, Item, Outbox
from tests import payloads


def post(rt: Runtime, key: str, body: dict[str, Any]) -> str:
    import json

    result = submit(rt, token=key, raw=json.dumps(body).encode(), header_key=None)
    return str(result.body["id"])


def assign(rt: Runtime, item_id: str, user: str) -> None:
    with rt.db.write() as session:
        lifecycle.update_item(
            session, item_id, actor="system", event="assigned", data={"to": user}, assignee=user
        )


def get(rt: Runtime, item_id: str) -> Item:
    with rt.db.read() as session:
        item = session.get(Item, item_id)
    assert item is not None
    return item


def effects(rt: Runtime, item_id: str) -> list[str]:
    with rt.db.read() as session:
        return list(
            session.exec(
                select(Outbox.kind).where(Outbox.item_id == item_id).order_by(col(Outbox.id))
            )
        )


def test_approve_confirms_and_queues_write(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    decisions.approve(rt, item_id, "U0MAYA")
    item = get(rt, item_id)
    assert (item.status, item.authority, item.decided_by) == ("approved", "confirmed", "U0MAYA")
    assert item.writeback_state == "queued"
    assert effects(rt, item_id) == ["slack.card", "slack.card", "salesforce.write"]


def test_second_decision_is_already_decided(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    decisions.approve(rt, item_id, "U0MAYA")
    with pytest.raises(AlreadyDecided, match="already approved by U0MAYA"):
        decisions.reject(rt, item_id, "U0ADMIN", "inaccurate")
    assert get(rt, item_id).status == "approved"


def test_concurrent_approves_decide_once(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    outcomes: list[str] = []
    lock = threading.Lock()

    def click() -> None:
        try:
            decisions.approve(rt, item_id, "U0MAYA")
            result = "won"
        except AlreadyDecided:
            result = "lost"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=click) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost"] * 19 + ["won"]
    assert effects(rt, item_id).count("salesforce.write") == 1
    with rt.db.read() as session:
        approvals = session.exec(
            select(Event).where(Event.item_id == item_id, Event.type == "approved")
        ).all()
    assert len(approvals) == 1


def test_stranger_cannot_decide(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    with pytest.raises(decisions.NotPermitted):
        decisions.approve(rt, item_id, "U0STRANGER")
    item = get(rt, item_id)
    assert item.status == "pending"
    with rt.db.read() as session:
        refused = session.exec(select(Event).where(Event.type == "decision_refused")).one()
    assert refused.actor == "user:U0STRANGER"


def test_manager_decides_only_after_escalation(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    with rt.db.write() as session:
        lifecycle.update_item(
            session, item_id, actor="system", event="manager_known", data={}, manager="U0MGR"
        )
    with pytest.raises(decisions.NotPermitted):
        decisions.approve(rt, item_id, "U0MGR")
    with rt.db.write() as session:
        lifecycle.update_item(
            session, item_id, actor="system", event="escalated", data={}, escalated=True
        )
    assert decisions.approve(rt, item_id, "U0MGR").status == "approved"


def test_edit_records_diff_and_final_values(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    item = decisions.edit(rt, item_id, "U0MAYA", {"StageName": "Value Proposition"})
    assert item.status == "edited"
    assert item.decision == {
        "verdict": "edited",
        "edits": {"StageName": {"from": "Negotiation/Review", "to": "Value Proposition"}},
        "declined": [],
    }
    assert decisions.effective_changes(item)[0]["value"] == "Value Proposition"
    assert item.changes[0]["value"] == "Negotiation/Review"


def test_edit_unknown_field_refused(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    with pytest.raises(Exception, match="cannot edit Amount"):
        decisions.edit(rt, item_id, "U0MAYA", {"Amount": 1})
    assert get(rt, item_id).status == "pending"


def test_reject_records_reason(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    item = decisions.reject(rt, item_id, "U0MAYA", "wrong_record", "That is the 2025 deal")
    assert item.status == "rejected"
    assert item.decision == {
        "verdict": "rejected",
        "reason": "wrong_record",
        "text": "That is the 2025 deal",
    }
    assert item.writeback_state == "none"
    with pytest.raises(Exception, match="unknown reason"):
        decisions.reject(rt, item_id, "U0MAYA", "meh")


def test_transition_refuses_illegal_move(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.brief())
    with rt.db.write() as session, pytest.raises(Conflict, match="auto_accepted"):
        lifecycle.transition(session, item_id, Status.APPROVED, actor="user:U0ADMIN")
    assert get(rt, item_id).status == "auto_accepted"


def test_resume_releases_held_in_order(rt: Runtime, agent_key: str) -> None:
    control.pause(rt, "opp-hygiene", "U0OLIVIA", "bad call data")
    first = post(rt, agent_key, payloads.field_update(idempotency_key="a"))
    second = post(rt, agent_key, payloads.task(idempotency_key="b"))
    assert get(rt, first).status == get(rt, second).status == "held"
    assert effects(rt, first) == []
    released = control.resume(rt, "opp-hygiene", "U0OLIVIA")
    assert released == [first, second]
    assert get(rt, first).status == get(rt, second).status == "pending"
    assert effects(rt, first) == ["slack.card"]


def test_pause_permissions(rt: Runtime, agent_key: str) -> None:
    with pytest.raises(decisions.NotPermitted):
        control.pause(rt, "opp-hygiene", "U0STRANGER", None)
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    assert control.pause(rt, "opp-hygiene", "U0MAYA", "looks wrong") is True
    assert control.pause(rt, "opp-hygiene", "U0MAYA", "again") is False
    with pytest.raises(decisions.NotPermitted):
        control.resume(rt, "opp-hygiene", "U0MAYA")
    assert control.resume(rt, "opp-hygiene", "U0ADMIN") == []
