"""Earned autonomy: promotion only on evidence, never for external messages; auto-pause revokes."""

from __future__ import annotations

from bot.core import autonomy, autopause, decisions
from bot.core.runtime import Runtime
from bot.reporting import queries
from bot.slack import commands
from tests import payloads
from tests.test_lifecycle import get, post

OWNER, ADMIN = "U0OLIVIA", "U0ADMIN"


def decide_many(rt: Runtime, key: str, approved: int, rejected: int = 0, prefix: str = "e") -> None:
    for n in range(approved + rejected):
        item_id = post(rt, key, payloads.field_update(idempotency_key=f"{prefix}{n}"))
        if n < approved:
            decisions.approve(rt, item_id, ADMIN)
        else:
            decisions.reject(rt, item_id, ADMIN, "inaccurate")


def test_promote_refused_without_evidence(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=20)
    answer = commands.run(rt, OWNER, "promote opp-hygiene")
    assert answer.text.startswith("Not yet (20 human decisions, needs 50;")
    assert "20 approved without edits" in answer.text
    assert (
        get(rt, post(rt, agent_key, payloads.field_update(idempotency_key="y"))).status == "pending"
    )


def test_promote_requires_owner(rt: Runtime) -> None:
    answer = commands.run(rt, "U0MAYA", "promote opp-hygiene")
    assert "only the owner or an admin can promote" in answer.text


def test_promote_grants_autopilot_on_evidence(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=50)
    answer = commands.run(rt, OWNER, "promote opp-hygiene")
    assert answer.public
    assert "promoted `opp-hygiene` to autopilot: 50 human decisions" in answer.text
    item = get(rt, post(rt, agent_key, payloads.field_update(idempotency_key="after")))
    assert (item.status, item.gate, item.authority) == ("auto_accepted", "auto", "advisory")
    assert item.writeback_state == "queued"
    # A manager-gated change still goes to a person: rules raise, autopilot only lowers defaults.
    amount = payloads.field_update(
        idempotency_key="amt", changes=[{"field": "Amount", "value": 90000, "observed": 84000}]
    )
    assert get(rt, post(rt, agent_key, amount)).gate == "manager"


def test_auto_pause_revokes_autopilot(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=50)
    assert autonomy.promote(rt, "opp-hygiene", OWNER)[0]
    for n in range(20):  # manager-gated items still reach people, who now reject them all
        body = payloads.field_update(
            idempotency_key=f"bad{n}", changes=[{"field": "Amount", "value": 1, "observed": 84000}]
        )
        decisions.reject(rt, post(rt, agent_key, body), ADMIN, "inaccurate")
    trips = autopause.check_all(rt)
    assert [t.workflow for t in trips] == ["opp-hygiene"]
    assert "autopilot revoked" in trips[0].reason
    states = {s.id: s for s in queries.workflow_states(rt)}
    assert (states["opp-hygiene"].paused, states["opp-hygiene"].mode) == (True, "review")
    with rt.db.write() as session:
        assert not autonomy.demote(session, rt, "opp-hygiene", "again")
