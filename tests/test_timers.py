"""Nothing waits forever: reminders, escalation, expiry, quiet hours, auto-pause and digests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.base.quiet import quiet_until
from bot.base.spec_model import QuietHours
from bot.core import autopause, control, decisions
from bot.delivery import digest, timers
from bot.service import Service
from models import Item, Outbox
from models.types import utcnow
from tests import payloads
from tests.test_lifecycle import get, post

REP, MANAGER, OWNER = "U0MAYA", "U0SAM", "U0OLIVIA"


def posted_item(service: Service, key: str, body: dict[str, object]) -> Item:
    item_id = post(service.rt, key, body)
    service.worker.drain()
    item = get(service.rt, item_id)
    assert item.card_ts is not None
    return item


def later(item: Item, hours: float) -> datetime:
    assert item.pending_since is not None
    return item.pending_since + timedelta(hours=hours, seconds=1)


def dms(service: Service, user: str) -> list[str]:
    standin = service.integrations.sandbox.slack
    assert standin is not None
    return [m.text + json.dumps(m.blocks) for m in standin.messages_for(user)]


def test_remind_once(service: Service, agent_key: str) -> None:
    item = posted_item(service, agent_key, payloads.field_update())
    assert timers.sweep(service.rt, service.integrations.people, later(item, 3)).reminded == []
    report = timers.sweep(service.rt, service.integrations.people, later(item, 4))
    assert report.reminded == [item.id]
    again = timers.sweep(service.rt, service.integrations.people, later(item, 5))
    assert again.reminded == []
    service.worker.drain()
    reminders = [t for t in dms(service, REP) if "Reminder" in t]
    assert len(reminders) == 1
    assert get(service.rt, item.id).next_due_at == later(item, 24) - timedelta(seconds=1)


def test_escalate_gives_manager_working_card(service: Service, agent_key: str) -> None:
    item = posted_item(service, agent_key, payloads.field_update())
    people = service.integrations.people
    timers.sweep(service.rt, people, later(item, 4))
    report = timers.sweep(service.rt, people, later(item, 24))
    assert report.escalated == [item.id]
    service.worker.drain()
    escalated = get(service.rt, item.id)
    assert (escalated.escalated, escalated.manager) == (True, MANAGER)
    manager_cards = [t for t in dms(service, MANAGER) if item.id in t]
    assert len(manager_cards) == 1
    assert '"action_id": "airlock_approve"' in manager_cards[0]
    assert "Escalated to you" in manager_cards[0]
    assert any("Escalated to <@U0SAM>" in t for t in dms(service, REP))
    assert decisions.approve(service.rt, item.id, MANAGER).status == "approved"


def test_expire_records_ignored(service: Service, agent_key: str) -> None:
    item = posted_item(service, agent_key, payloads.field_update())
    people = service.integrations.people
    for hours in (4, 24):
        timers.sweep(service.rt, people, later(item, hours))
    service.worker.drain()  # the manager's card is delivered: expiry counts from there
    report = timers.sweep(service.rt, people, later(item, 72))
    assert report.expired == [item.id]
    expired = get(service.rt, item.id)
    assert expired.status == "expired"
    assert expired.decision == {"verdict": "expired", "ignored_by": REP}
    assert expired.next_due_at is None
    service.worker.drain()
    assert any("Expired" in t for t in dms(service, REP))


def test_quiet_hours_postpone_reminder(service: Service, agent_key: str) -> None:
    quiet = QuietHours()
    night = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 23:00 Tuesday in New York
    assert quiet_until(night, "America/New_York", quiet) == datetime(
        2026, 11, 25, 13, 0, tzinfo=UTC
    )
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert quiet_until(saturday, "America/New_York", quiet) == datetime(
        2026, 11, 30, 13, 0, tzinfo=UTC
    )
    assert quiet_until(datetime(2026, 11, 25, 15, 0, tzinfo=UTC), "America/New_York", quiet) is None
    # Submitted two hours before the night sweep, by the runtime's own clock: no real date.
    service.rt.clock = lambda: night - timedelta(hours=2)
    item = posted_item(service, agent_key, payloads.message_draft())
    assert item.pending_since == night - timedelta(hours=2)
    # No record, so the owner reviews: Olivia, in Chicago, where 04:00 UTC is 22:00.
    assert item.assignee == OWNER
    report = timers.sweep(service.rt, service.integrations.people, night)
    assert report.postponed == [item.id]
    # The reminder waits for 08:00 in Chicago (14:00 UTC), but escalation keeps its own time
    # (8h after the card, 10:00 UTC): quiet hours postpone reminders only.
    assert get(service.rt, item.id).next_due_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert get(service.rt, item.id).reminded_at is None


def test_auto_pause_trips_and_resume_releases(service: Service, agent_key: str) -> None:
    rt = service.rt
    for n in range(10):
        item = posted_item(service, agent_key, payloads.field_update(idempotency_key=f"k{n}"))
        if n < 6:
            decisions.reject(rt, item.id, REP, "inaccurate")
        else:
            decisions.approve(rt, item.id, REP)
    trips = autopause.check_all(rt)
    assert [t.workflow for t in trips] == ["opp-hygiene"]
    assert "60% of the last 10 decisions were rejections" in trips[0].reason
    assert autopause.check_all(rt) == []
    held = [post(rt, agent_key, payloads.field_update(idempotency_key=f"h{n}")) for n in range(3)]
    assert {get(rt, i).status for i in held} == {"held"}
    service.worker.drain()
    notice = [t for t in dms(service, OWNER) if "Auto-paused" in t]
    assert len(notice) == 1
    assert "airlock_home_resume" in notice[0]
    assert control.resume(rt, "opp-hygiene", OWNER) == held
    assert autopause.check_all(rt) == []
    assert {get(rt, i).status for i in held} == {"pending"}


def test_digest_once_per_day(service: Service, agent_key: str) -> None:
    item = posted_item(service, agent_key, payloads.field_update())
    decisions.reject(service.rt, item.id, REP, "wrong_record")
    now = utcnow()
    assert digest.queue_digests(service.rt, now) == [OWNER]
    digest.queue_digests(service.rt, now)
    with service.rt.db.read() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.dedupe_key).like("digest:%"))).all()
    assert len(rows) == 1
    text = rows[0].payload["text"]
    assert "*opp-hygiene*: 1 received · 1 decided · 0 accepted" in text
    assert "1 rejected (top reasons: wrong record 1)" in text
