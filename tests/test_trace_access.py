"""`/airlock trace` answers the item's reviewers, its workflow's owner and admins only."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.core import lifecycle
from bot.core.runtime import Runtime
from bot.slack import commands
from models import Event
from tests import payloads
from tests.test_lifecycle import assign, post


@pytest.fixture
def item_id(rt: Runtime, agent_key: str) -> str:
    item_id = post(rt, agent_key, payloads.field_update(title="Secret renewal terms"))
    assign(rt, item_id, "U0MAYA")
    with rt.db.write() as session:
        lifecycle.update_item(
            session, item_id, actor="system", event="manager_known", data={}, manager="U0SAM"
        )
    return item_id


@pytest.mark.parametrize("user", ["U0MAYA", "U0SAM", "U0OLIVIA", "U0ADMIN"])
def test_trace_answers_reviewers_owner_and_admins(rt: Runtime, item_id: str, user: str) -> None:
    answer = commands.run(rt, user, f"trace {item_id}")
    assert "Secret renewal terms" in answer.text and not answer.public


def test_trace_refuses_others_and_logs_it(rt: Runtime, item_id: str) -> None:
    answer = commands.run(rt, "U0PRIYA", f"trace {item_id}")
    assert "Secret renewal terms" not in answer.text
    assert ":no_entry:" in answer.text and "reviewers" in answer.text
    with rt.db.read() as session:
        refused = session.exec(
            select(Event).where(col(Event.type) == "trace_refused", col(Event.item_id) == item_id)
        ).all()
    assert [e.actor for e in refused] == ["user:U0PRIYA"]


def test_trace_unknown_item_says_so(rt: Runtime) -> None:
    assert "does not exist" in commands.run(rt, "U0PRIYA", "trace itm_nope").text
