"""A snoozed item keeps its snooze and its moved timers through a pause and resume (issue 17).

Every moment comes from the runtime's injected clock: no real dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import control, scoped_pause, snooze
from bot.core.scopes import parse_scope
from bot.core.snooze import Snooze
from bot.service import Service
from tests import payloads
from tests.test_lifecycle import get
from tests.test_pause_timers import at, sweep
from tests.test_slack_flow import REP
from tests.test_timers import posted_item

OWNER = "U0OLIVIA"
TUESDAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("scope", ["workflow", "agent:test-agent"])
def test_resume_leaves_a_snoozed_item_asleep_with_its_timers(
    service: Service, agent_key: str, scope: str
) -> None:
    rt = service.rt
    at(service, TUESDAY)
    item = posted_item(service, agent_key, payloads.field_update())
    snoozed = snooze.snooze(rt, item.id, REP, Snooze.NEXT_WEEK, "UTC")
    until = snoozed.snoozed_until
    assert until is not None and snoozed.pending_since is not None

    at(service, TUESDAY + timedelta(hours=1))
    if scope == "workflow":
        control.pause(rt, "opp-hygiene", OWNER, "checking")
        at(service, TUESDAY + timedelta(hours=2))
        control.resume(rt, "opp-hygiene", OWNER)
    else:
        scoped_pause.pause(rt, parse_scope(scope), OWNER, "checking", None)
        at(service, TUESDAY + timedelta(hours=2))
        scoped_pause.resume(rt, parse_scope(scope), OWNER)

    after = get(rt, item.id)
    assert after.snoozed_until == until
    assert after.pending_since == snoozed.pending_since  # the snooze's shift is kept
    # At the end of the snooze the item wakes (the reviewer is told); its clocks run from the
    # moved start, not from the resume days earlier: escalation (24h) comes a day after waking.
    report = sweep(service, until + timedelta(seconds=1))
    assert report.woken == [item.id]
    assert sweep(service, until + timedelta(hours=23)).escalated == []
    assert get(rt, item.id).status == "pending" and not get(rt, item.id).escalated
    assert sweep(service, until + timedelta(hours=24, seconds=1)).escalated == [item.id]
