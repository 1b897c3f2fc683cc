"""Timers run on the reviewer's clock: from card delivery, never while paused, each on its own.

Every moment comes from the runtime's injected clock or is a sweep's `now`: no real dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from bot.core import autopause, control, lifecycle
from bot.delivery import timers
from bot.service import Service
from models import Event, Item
from models.types import utcnow
from tests import payloads
from tests.test_lifecycle import get, post
from tests.test_timers import posted_item

OWNER = "U0OLIVIA"
TUESDAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 09:00 in Chicago, 10:00 in New York


def at(service: Service, moment: datetime) -> None:
    service.rt.clock = lambda: moment


def sweep(service: Service, moment: datetime) -> timers.SweepReport:
    return timers.sweep(service.rt, service.integrations.people, moment)


def test_sweep_leaves_paused_workflow_alone(service: Service, agent_key: str) -> None:
    at(service, TUESDAY)
    item = posted_item(service, agent_key, payloads.field_update())
    control.pause(service.rt, "opp-hygiene", OWNER, "checking")
    assert sweep(service, TUESDAY + timedelta(hours=100)) == timers.SweepReport()
    paused = get(service.rt, item.id)
    assert (paused.status, paused.reminded_at, paused.escalated) == ("pending", None, False)
    resumed = TUESDAY + timedelta(hours=100)
    at(service, resumed)
    control.resume(service.rt, "opp-hygiene", OWNER)
    # The clock restarts at the resume: the reminder is 4h after it, not overdue at once.
    assert sweep(service, resumed + timedelta(hours=3, minutes=59)).reminded == []
    assert sweep(service, resumed + timedelta(hours=4, seconds=1)).reminded == [item.id]


def test_timers_start_when_card_is_delivered(service: Service, agent_key: str) -> None:
    at(service, TUESDAY)
    item_id = post(service.rt, agent_key, payloads.field_update())
    # A card backlog: nobody has seen the item, so nobody is reminded and nothing expires.
    assert sweep(service, TUESDAY + timedelta(hours=80)) == timers.SweepReport()
    delivered = TUESDAY + timedelta(hours=10)
    at(service, delivered)
    service.worker.drain()
    item = get(service.rt, item_id)
    assert (item.card_ts is not None, item.pending_since) == (True, delivered)
    assert sweep(service, delivered + timedelta(hours=3)).reminded == []
    assert sweep(service, delivered + timedelta(hours=4, seconds=1)).reminded == [item_id]


def test_expiry_counts_from_manager_card_delivery(service: Service, agent_key: str) -> None:
    at(service, TUESDAY)
    item = posted_item(service, agent_key, payloads.field_update())
    assert sweep(service, TUESDAY + timedelta(hours=4, seconds=1)).reminded == [item.id]
    assert sweep(service, TUESDAY + timedelta(hours=24, seconds=1)).escalated == [item.id]
    # The manager's card waits in a backlog past the original 72h.
    assert sweep(service, TUESDAY + timedelta(hours=72, seconds=1)).expired == []
    seen = TUESDAY + timedelta(hours=71)
    at(service, seen)
    service.worker.drain()
    assert get(service.rt, item.id).escalated_at == seen
    assert sweep(service, seen + timedelta(hours=47)).expired == []
    assert sweep(service, seen + timedelta(hours=48, seconds=1)).expired == [item.id]


def test_quiet_reminder_does_not_delay_escalation(service: Service, agent_key: str) -> None:
    # Friday 18:00 in Chicago (the owner reviews exec-outreach): remind 2h, escalate 8h.
    friday = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    at(service, friday)
    item = posted_item(service, agent_key, payloads.message_draft())
    assert sweep(service, friday + timedelta(hours=2, seconds=1)).postponed == [item.id]
    # The reminder waits for Monday 08:00; escalation keeps its own time (Saturday 02:00).
    assert get(service.rt, item.id).next_due_at == friday + timedelta(hours=8)
    report = sweep(service, friday + timedelta(hours=8, seconds=1))
    assert (report.escalated, report.reminded) == ([item.id], [])
    monday_morning = datetime(2026, 11, 30, 14, 0, 1, tzinfo=UTC)
    at(service, friday + timedelta(hours=8, seconds=1))
    service.worker.drain()
    # Expiry keeps its schedule too: 40h after the manager's card, not Monday morning.
    expires = get(service.rt, item.id).next_due_at
    assert expires == friday + timedelta(hours=48, seconds=1)
    assert expires < monday_morning
    assert sweep(service, expires - timedelta(seconds=1)).expired == []
    assert sweep(service, expires).expired == [item.id]


def test_auto_pause_counts_write_failures_when_they_happened(
    service: Service, agent_key: str
) -> None:
    rt = service.rt
    failed = [post(rt, agent_key, payloads.field_update(idempotency_key=f"f{n}")) for n in range(5)]
    with rt.db.write() as session:
        for item_id in failed:
            lifecycle.update_item(
                session,
                item_id,
                actor="system",
                event="writeback_failed",
                data={"error": "FIELD_CUSTOM_VALIDATION_EXCEPTION"},
                writeback_state="failed",
            )
    # The failures were two hours ago (as far as the audit trail says) ...
    earlier = utcnow() - timedelta(hours=2)
    with rt.db.write() as session:
        session.execute(
            update(Event)
            .where(col(Event.item_id).in_(failed), col(Event.type) == "writeback_failed")
            .values(at=earlier)
        )
        session.execute(update(Item).where(col(Item.id).in_(failed)).values(updated_at=earlier))
    # ... and the items are touched now (a card re-rendered, a note added): not new failures.
    with rt.db.write() as session:
        for item_id in failed:
            lifecycle.update_item(
                session, item_id, actor="system", event="card_updated", data={}, card_ts="1.2"
            )
    assert autopause.check_all(rt) == []
    assert get(rt, failed[0]).status == "pending"


def test_auto_pause_trips_on_fresh_write_failures(service: Service, agent_key: str) -> None:
    rt = service.rt
    failed = [post(rt, agent_key, payloads.field_update(idempotency_key=f"f{n}")) for n in range(5)]
    with rt.db.write() as session:
        for item_id in failed:
            lifecycle.update_item(
                session,
                item_id,
                actor="system",
                event="writeback_failed",
                data={},
                writeback_state="failed",
            )
    trips = autopause.check_all(rt)
    assert [t.reason for t in trips] == ["5 Salesforce write-back failures in the last hour"]
