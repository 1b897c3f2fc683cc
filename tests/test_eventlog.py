"""What happened is logged: one JSON line per committed audit event, nothing for a rollback."""

from __future__ import annotations

import json
import logging

import pytest

from bot.base import eventlog
from bot.core import control, decisions, lifecycle
from bot.core.runtime import Runtime
from tests import payloads
from tests.test_lifecycle import assign, post

EVENTS = "airlock.events"


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == EVENTS]


def test_decisions_and_pauses_log_one_json_line_each(
    rt: Runtime, agent_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=EVENTS)
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    decisions.reject(rt, item_id, "U0MAYA", "inaccurate")
    control.pause(rt, "opp-hygiene", "U0MAYA", "wrong stages")
    lines = logged(caplog)
    assert [line["event"] for line in lines if line["item"] == item_id] == [
        "received",
        "pending",
        "assigned",
        "rejected",
    ]
    rejected = next(line for line in lines if line["event"] == "rejected")
    assert (rejected["workflow"], rejected["actor"]) == ("opp-hygiene", "user:U0MAYA")
    paused = next(line for line in lines if line["event"] == "paused")
    assert (paused["item"], paused["actor"], paused["reason"]) == (
        None,
        "user:U0MAYA",
        "wrong stages",
    )


def test_rolled_back_event_is_not_logged(
    rt: Runtime, agent_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    item_id = post(rt, agent_key, payloads.field_update())
    caplog.set_level(logging.INFO, logger=EVENTS)
    with pytest.raises(RuntimeError), rt.db.write() as session:
        lifecycle.update_item(
            session, item_id, actor="system", event="assigned", data={}, assignee="U0X"
        )
        raise RuntimeError("the transaction fails after the event was appended")
    assert logged(caplog) == []


def test_scheduler_ticks_are_not_logged_at_info() -> None:
    root, ticks = logging.getLogger(), logging.getLogger("apscheduler.executors")
    levels = root.level, ticks.level
    try:
        eventlog.configure(logging.INFO)
        assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
        assert logging.getLogger(EVENTS).isEnabledFor(logging.INFO)
    finally:
        root.setLevel(levels[0])
        ticks.setLevel(levels[1])
