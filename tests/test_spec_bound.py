"""Autonomy and release follow the spec in force now: a changed spec revokes a promotion, and
held items are judged again when they are released."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from bot.base.specs import load_specs
from bot.core import autonomy, control, release
from bot.core.registry import sync_workflows
from bot.core.runtime import Runtime
from bot.slack import commands
from models import Event
from tests import payloads
from tests.test_autonomy import OWNER, decide_many
from tests.test_lifecycle import effects, get, post

WORKFLOW = "opp-hygiene"
STAGE_TO_MANAGER = "gate:\n  - when: {fields_any: [Opportunity.StageName]}\n    gate: manager\n"


def reload(rt: Runtime, folder: Path, edit: Callable[[str], str]) -> None:
    """Edit the workflow file and load it as a restart would."""
    path = folder / f"{WORKFLOW}.yml"
    path.write_text(edit(path.read_text()))
    rt.specs = load_specs(folder)
    assert not rt.specs.errors
    sync_workflows(rt.db, rt.specs)


def workflow_events(rt: Runtime, type_: str) -> list[Event]:
    with rt.db.read() as session:
        query = select(Event).where(
            col(Event.stream) == f"workflow:{WORKFLOW}", Event.type == type_
        )
        return list(session.exec(query))


def promoted(rt: Runtime, key: str) -> None:
    decide_many(rt, key, approved=50)
    assert autonomy.promote(rt, WORKFLOW, OWNER)[0]
    assert get(rt, post(rt, key, payloads.field_update(idempotency_key="auto"))).gate == "auto"


def test_shadow_mode_in_spec_ends_promotion(
    rt: Runtime, agent_key: str, workflows_dir: Path
) -> None:
    promoted(rt, agent_key)
    reload(rt, workflows_dir, lambda text: text.replace("mode: review", "mode: shadow"))
    item_id = post(rt, agent_key, payloads.field_update(idempotency_key="after"))
    assert get(rt, item_id).status == "shadowed"
    assert "salesforce.write" not in effects(rt, item_id)


def test_promote_refused_while_spec_says_shadow(
    rt: Runtime, agent_key: str, workflows_dir: Path
) -> None:
    """Found by the lifecycle state machine: paused, shadow spec, promote, resume -> the held item
    was auto-accepted. Shadow mode records only; autopilot is earned from review, not skipped to."""
    decide_many(rt, agent_key, approved=50)
    control.pause(rt, WORKFLOW, OWNER, "tightening the spec")
    held = post(rt, agent_key, payloads.field_update(idempotency_key="held"))
    reload(rt, workflows_dir, lambda text: text.replace("mode: review", "mode: shadow"))
    answer = commands.run(rt, OWNER, f"promote {WORKFLOW}")
    assert "runs in shadow mode" in answer.text and "mode: review" in answer.text
    assert workflow_events(rt, "promoted") == []
    control.resume(rt, WORKFLOW, OWNER)
    assert get(rt, held).status == "shadowed"
    assert "salesforce.write" not in effects(rt, held)


def test_spec_change_revokes_promotion(rt: Runtime, agent_key: str, workflows_dir: Path) -> None:
    promoted(rt, agent_key)
    reload(rt, workflows_dir, lambda text: text.replace("remind_after: 4h", "remind_after: 3h"))
    item = get(rt, post(rt, agent_key, payloads.field_update(idempotency_key="after")))
    assert (item.status, item.gate) == ("pending", "rep")
    [revoked] = workflow_events(rt, "demoted")
    assert revoked.actor == "system" and "spec changed" in revoked.data["reason"]
    # Earned again, the grant holds for the new version.
    assert autonomy.promote(rt, WORKFLOW, OWNER)[0]
    assert get(rt, post(rt, agent_key, payloads.field_update(idempotency_key="again"))).gate == (
        "auto"
    )


def test_grant_under_new_spec_does_not_govern_old_spec(
    rt: Runtime, agent_key: str, workflows_dir: Path
) -> None:
    decide_many(rt, agent_key, approved=50)
    newer = Runtime(settings=rt.settings, db=rt.db, specs=rt.specs)
    old_specs = rt.specs
    reload(newer, workflows_dir, lambda text: text.replace("remind_after: 4h", "remind_after: 3h"))
    assert autonomy.promote(newer, WORKFLOW, OWNER)[0]
    # A replica still running the old spec does not inherit the new spec's autopilot.
    assert rt.specs is old_specs
    item = get(rt, post(rt, agent_key, payloads.field_update(idempotency_key="old")))
    assert (item.status, item.gate) == ("pending", "rep")


def test_demote_command(rt: Runtime, agent_key: str) -> None:
    promoted(rt, agent_key)
    refused = commands.run(rt, "U0MAYA", f"demote {WORKFLOW}")
    assert "only the owner (<@U0OLIVIA>) or an admin can demote" in refused.text
    assert [e.actor for e in workflow_events(rt, "demote_refused")] == ["user:U0MAYA"]
    answer = commands.run(rt, OWNER, f"demote {WORKFLOW}")
    assert answer.public and f"demoted `{WORKFLOW}`" in answer.text
    item = get(rt, post(rt, agent_key, payloads.field_update(idempotency_key="after")))
    assert (item.status, item.gate) == ("pending", "rep")
    assert [e.actor for e in workflow_events(rt, "demoted")] == [f"user:{OWNER}"]
    assert "not on autopilot" in commands.run(rt, OWNER, f"demote {WORKFLOW}").text


def test_resume_judges_held_items_under_current_spec(
    rt: Runtime, agent_key: str, workflows_dir: Path
) -> None:
    promoted(rt, agent_key)
    control.pause(rt, WORKFLOW, OWNER, "tightening the spec")
    held = get(rt, post(rt, agent_key, payloads.field_update(idempotency_key="held")))
    assert (held.status, held.gate) == ("held", "auto")
    reload(rt, workflows_dir, lambda text: text.replace("gate:\n", STAGE_TO_MANAGER, 1))
    assert control.resume(rt, WORKFLOW, OWNER) == [held.id]
    released = get(rt, held.id)
    assert (released.status, released.gate, released.writeback_state) == (
        "pending",
        "manager",
        "none",
    )
    assert released.workflow_version == rt.spec(WORKFLOW).version
    assert "salesforce.write" not in effects(rt, held.id)


def test_resume_blocks_what_the_spec_no_longer_allows(
    rt: Runtime, agent_key: str, workflows_dir: Path
) -> None:
    control.pause(rt, WORKFLOW, OWNER, "stage changes look wrong")
    held_id = post(rt, agent_key, payloads.field_update(idempotency_key="held"))
    reload(rt, workflows_dir, lambda text: text.replace("Opportunity.StageName, ", "", 1))
    control.resume(rt, WORKFLOW, OWNER)
    item = get(rt, held_id)
    assert (item.status, item.gate) == ("blocked", "block")
    assert any("no longer allowed" in r for r in item.gate_reasons)
    assert effects(rt, held_id) == ["slack.notify"]  # the owner hears of it; no card, no write


def test_resume_answers_first_then_releases_every_batch_in_order(
    rt: Runtime, agent_key: str
) -> None:
    control.pause(rt, WORKFLOW, OWNER, "backlog")
    total = release.BATCH + 7
    held = [
        post(rt, agent_key, payloads.field_update(idempotency_key=f"h{n}")) for n in range(total)
    ]
    answer = commands.run(rt, OWNER, f"resume {WORKFLOW}")
    assert f"its {total} held item(s) are being released in order" in answer.text
    assert {get(rt, i).status for i in held} == {"held"}  # nothing released before the answer
    assert answer.then is not None
    assert (
        answer.then()
        == f":white_check_mark: `{WORKFLOW}`: all {total} held item(s) released in order."
    )
    assert [get(rt, i).status for i in held] == ["pending"] * total
    assert release.release_held(rt) == []


def test_release_all_waits_for_items_another_releaser_holds(rt: Runtime, agent_key: str) -> None:
    """Under load the scheduler's tick locked the last held items (SKIP LOCKED passed them by):
    release_all stopped early and `/airlock resume` said the workflow was paused again."""
    if rt.db.is_sqlite:
        pytest.skip("SQLite serialises writers: no releaser ever skips a locked item")
    control.pause(rt, WORKFLOW, OWNER, "checking stages")
    for n in range(3):
        post(rt, agent_key, payloads.field_update(idempotency_key=f"held-{n}"))
    control.resume(rt, WORKFLOW, OWNER, release=0)
    other = rt.db.write_engine.connect()  # another releaser, mid-transaction on the oldest item
    other.begin()
    other.execute(
        text("SELECT id FROM item WHERE status = 'held' ORDER BY created_at, id LIMIT 1 FOR UPDATE")
    )
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            other.rollback()  # the other releaser lets go

    try:
        assert release.release_all(rt, WORKFLOW, actor="user:x", sleep=sleep) == 3
    finally:
        other.close()
    assert len(waits) == 3
    with rt.db.read() as session:
        assert release.held_count(session, WORKFLOW) == 0
