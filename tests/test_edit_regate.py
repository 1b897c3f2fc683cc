"""A reviewer's Edit is gated again: an edit that needs a higher gate than the editor may pass
is refused (and logged), never approved."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.base.errors import Forbidden
from bot.core import decisions, lifecycle
from bot.core.runtime import Runtime
from models import Event
from tests import payloads
from tests.test_lifecycle import assign, get, post

DEAL_DESK = """\
id: deal-desk
name: Deal desk
owner: U0OLIVIA
trigger: after pricing calls
inputs: [Salesforce Opportunity]
task: Keep amounts current
level: crm_write
allowed_outputs:
  kinds: [field_update]
  fields: [Opportunity.Amount, Opportunity.NextStep]
gate:
  - when: {amount_over: 100000}
    gate: manager
    reason: large deal
checks:
  banned_terms: {terms: [guarantee], on_fail: block}
failure_modes: [wrong amount]
success_metric: forecast accuracy
"""


@pytest.fixture
def deal_desk(workflows_dir: Path) -> None:
    (workflows_dir / "deal-desk.yml").write_text(DEAL_DESK)


def amount_item(rt: Runtime, key: str, amount: object = 90000) -> str:
    body = payloads.field_update(
        workflow="deal-desk",
        changes=[{"field": "Amount", "value": amount, "observed": 80000}],
    )
    item_id = post(rt, key, body)
    assign(rt, item_id, "U0MAYA")
    return item_id


def refusals(rt: Runtime, item_id: str) -> list[Event]:
    with rt.db.read() as session:
        query = select(Event).where(
            col(Event.item_id) == item_id, col(Event.type) == "edit_refused"
        )
        return list(session.exec(query))


@pytest.mark.parametrize("amount", [250000, "250000", "250,000"])
def test_edit_refused_when_it_raises_the_gate(
    deal_desk: None, rt: Runtime, agent_key: str, amount: object
) -> None:
    item_id = amount_item(rt, agent_key)
    assert get(rt, item_id).gate == "rep"
    with pytest.raises(Forbidden, match=r"needs a manager \(large deal\)"):
        decisions.edit(rt, item_id, "U0MAYA", {"Amount": amount})
    assert get(rt, item_id).status == "pending"
    [refused] = refusals(rt, item_id)
    assert refused.actor == "user:U0MAYA" and refused.data["gate"] == "manager"


def test_edit_within_the_gate_is_confirmed(deal_desk: None, rt: Runtime, agent_key: str) -> None:
    item_id = amount_item(rt, agent_key)
    assert decisions.edit(rt, item_id, "U0MAYA", {"Amount": "95000"}).status == "edited"


@pytest.mark.parametrize("user", ["U0ADMIN", "U0SAM"])
def test_edit_by_manager_may_raise_to_manager_gate(
    deal_desk: None, rt: Runtime, agent_key: str, user: str
) -> None:
    item_id = amount_item(rt, agent_key)
    with rt.db.write() as session:
        lifecycle.update_item(
            session,
            item_id,
            actor="system",
            event="escalated",
            data={},
            escalated=True,
            manager="U0SAM",
        )
    assert decisions.edit(rt, item_id, user, {"Amount": 250000}).status == "edited"


def test_edit_into_a_block_refused_for_everyone(
    deal_desk: None, rt: Runtime, agent_key: str
) -> None:
    body = payloads.field_update(
        workflow="deal-desk",
        changes=[{"field": "NextStep", "value": "Send quote", "observed": ""}],
    )
    item_id = post(rt, agent_key, body)
    assign(rt, item_id, "U0MAYA")
    for user in ("U0MAYA", "U0ADMIN"):
        with pytest.raises(Forbidden, match="blocked"):
            decisions.edit(rt, item_id, user, {"NextStep": "We gu\u00adarantee delivery"})
    assert get(rt, item_id).status == "pending"


def test_edit_message_with_pricing_language_refused(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.message_draft())
    item = get(rt, item_id)
    assert item.gate == "rep"
    assign(rt, item_id, "U0MAYA")
    body = "Happy to offer a 20% discount if you sign this week."
    with pytest.raises(Forbidden, match="pricing language"):
        decisions.edit(rt, item_id, "U0MAYA", {"message.body": body})
    assert get(rt, item_id).status == "pending"
