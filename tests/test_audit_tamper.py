"""The tamper suite: every way to edit the trail behind Airlock's back makes `audit verify` fail.

Each case tampers with the database directly, as someone holding its credentials (but not
AIRLOCK_AUDIT_KEY) would, then runs `airlock audit verify`: exit 1, the item named, and what is
wrong with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import col, select

from bot.core import checkpoint, decisions
from bot.core.chain import BOUND_FIELDS
from bot.core.lifecycle import chain_hash
from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.sandbox.salesforce_standin import SalesforceStandin
from models import Event, Item
from tests import payloads
from tests.test_audit_cli import airlock, run_sql
from tests.test_audit_cli import env as env
from tests.test_lifecycle import assign, post
from tests.writeback_support import settle

KEY = "test-audit-key-kept-outside-the-database"


@pytest.fixture
def keyed_env(env: dict[str, str]) -> dict[str, str]:
    return env | {"AIRLOCK_AUDIT_KEY": KEY}


@pytest.fixture
def story(rt: Runtime, agent_key: str) -> str:
    """An approved field update and a brief, covered by a signed checkpoint."""
    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    decisions.approve(rt, item_id, "U0MAYA")
    post(rt, agent_key, payloads.brief())
    assert checkpoint.write_checkpoint(rt.db, KEY) == 1
    return item_id


def verify_fails(env: dict[str, str], tmp_path: Path, *expected: str) -> str:
    result = airlock(env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    for words in expected:
        assert words in result.stderr, result.stderr
    return result.stderr


def events(rt: Runtime, stream: str) -> list[dict[str, Any]]:
    """A stream's events as the ORM reads them (aware datetimes, parsed JSON), in order."""
    with rt.db.read() as session:
        query = select(Event).where(col(Event.stream) == stream).order_by(col(Event.seq))
        return [e.model_dump() for e in session.exec(query)]


def insert_event(rt: Runtime, row: dict[str, Any]) -> None:
    with rt.db.write() as session:
        session.execute(Event.__table__.insert(), [row])  # type: ignore[attr-defined]


def recompute_approval(rt: Runtime, stream: str, actor: str) -> None:
    """Put another actor on the approval and recompute the chain and head, without the key."""
    prev = None
    for event in events(rt, stream):
        if event["type"] == "approved":
            event["actor"] = actor
        row = {**event, "prev_hash": prev}
        row["hash"] = chain_hash(row)
        run_sql(
            rt,
            "UPDATE event SET actor = :a, prev_hash = :p, hash = :h WHERE id = :id",
            a=row["actor"],
            p=prev,
            h=row["hash"],
            id=event["id"],
        )
        prev = row["hash"]
    run_sql(rt, "UPDATE item SET audit_head = :h WHERE id = :i", h=prev, i=stream)


def test_verify_clean_keyed_trail(story: str, keyed_env: dict[str, str], tmp_path: Path) -> None:
    result = airlock(keyed_env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 checkpoint(s) verified" in result.stdout
    # This runtime wrote without the key: verify says its events are only chained, not MACed.
    assert "event(s) are unkeyed (written without AIRLOCK_AUDIT_KEY)" in result.stderr


def test_verify_catches_inserted_event_in_the_middle(
    rt: Runtime, story: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    run_sql(rt, "UPDATE event SET seq = seq + 10 WHERE stream = :i AND seq >= 2", i=story)
    run_sql(rt, "UPDATE event SET seq = seq - 9 WHERE stream = :i AND seq >= 12", i=story)
    first = events(rt, story)[0]
    forged = {
        **{k: first[k] for k in ("stream", "item_id", "workflow_id", "at")},
        "seq": 2,
        "type": "approved",
        "actor": "user:U0EVIL",
        "data": {},
        "prev_hash": first["hash"],
        "state": None,
    }
    forged["hash"] = chain_hash(forged)
    insert_event(rt, forged)
    verify_fails(keyed_env, tmp_path, f"TAMPERED {story}: event #3", "does not follow")


def test_verify_catches_appended_event(
    rt: Runtime, story: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    last = events(rt, story)[-1]
    forged = last | {"id": None, "seq": last["seq"] + 1, "type": "rejected"}
    forged |= {"actor": "user:U0EVIL", "prev_hash": last["hash"]}
    forged["hash"] = chain_hash(forged)
    del forged["id"]
    insert_event(rt, forged)
    verify_fails(keyed_env, tmp_path, f"TAMPERED {story}")


# An edit of every column the chain vouches for (bot.core.chain.BOUND_FIELDS).
EDITS = {
    "workflow_id": "account-brief",
    "raw_hash": "0" * 64,
    "kind": "brief",
    "title": "A title the agent never sent",
    "summary": "A summary the agent never sent",
    "record_sobject": "Account",
    "record_id": "001Ai0000000009IAA",
    "changes": json.dumps([{"field": "Amount", "value": 9999999}]),
    "task": json.dumps({"subject": "Wire the money", "due_date": "2026-12-01"}),
    "message": json.dumps({"to": "cfo@example.com", "subject": "Invoice", "body": "Pay now"}),
    "status": "rejected",
    "authority": "advisory",
    "decided_by": "U0EVIL",
    "decision": json.dumps({"edits": {"StageName": "Closed Won"}}),
    "writeback_state": "written",
}


def test_the_tamper_cases_cover_every_bound_column() -> None:
    assert set(EDITS) == set(BOUND_FIELDS)


@pytest.mark.parametrize(("column", "value"), sorted(EDITS.items()))
def test_verify_catches_edited_item_row(
    rt: Runtime,
    story: str,
    keyed_env: dict[str, str],
    tmp_path: Path,
    column: str,
    value: str,
) -> None:
    run_sql(rt, f"UPDATE item SET {column} = :v WHERE id = :i", v=value, i=story)
    verify_fails(
        keyed_env, tmp_path, f"TAMPERED {story}: the item row's {column} differ", "edited outside"
    )


def test_verify_catches_edited_raw_submission(
    rt: Runtime, story: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    run_sql(rt, "UPDATE item SET raw = :r WHERE id = :i", r='{"title": "other"}', i=story)
    verify_fails(keyed_env, tmp_path, f"TAMPERED {story}: the stored raw submission")


def test_verify_catches_item_deleted_with_all_its_events(
    rt: Runtime, story: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    run_sql(rt, "DELETE FROM event WHERE stream = :i", i=story)
    run_sql(rt, "DELETE FROM outbox WHERE item_id = :i", i=story)
    run_sql(rt, "DELETE FROM item WHERE id = :i", i=story)
    verify_fails(keyed_env, tmp_path, f"TAMPERED {story}: the whole stream is gone")


def test_verify_catches_truncated_stream_with_head_rolled_back(
    rt: Runtime, story: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    kept = events(rt, story)[1]
    run_sql(rt, "DELETE FROM event WHERE stream = :i AND seq > 2", i=story)
    # Put the row back as it stood at event #2, so the row agrees with the shortened chain.
    run_sql(
        rt,
        "UPDATE item SET audit_seq = 2, audit_head = :h, status = 'pending', "
        "authority = 'advisory', decided_by = NULL, decision = NULL, "
        "writeback_state = 'none' WHERE id = :i",
        h=kept["hash"],
        i=story,
    )
    verify_fails(keyed_env, tmp_path, f"TAMPERED {story}: the stream was truncated")


def test_verify_catches_chain_recomputed_without_the_key(
    rt: Runtime, story: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    recompute_approval(rt, story, "user:U0EVIL")
    run_sql(rt, "UPDATE item SET decided_by = 'U0EVIL' WHERE id = :i", i=story)
    # Every chain and row check passes now; only the signed checkpoint can tell.
    stderr = verify_fails(keyed_env, tmp_path, f"TAMPERED {story}: event #", "recomputed")
    assert "the item row's decided_by" in stderr


def test_verify_catches_checkpoint_resigned_without_the_key(
    rt: Runtime, story: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    run_sql(rt, "DELETE FROM event WHERE stream = :i", i=story)
    run_sql(rt, "DELETE FROM outbox WHERE item_id = :i", i=story)
    run_sql(rt, "DELETE FROM item WHERE id = :i", i=story)
    with rt.db.write() as session:
        from models import AuditCheckpoint

        cp = session.get(AuditCheckpoint, 1)
        assert cp is not None
        cp.heads = {k: v for k, v in cp.heads.items() if k != story}
        cp.signature = checkpoint.sign(checkpoint.body_of(cp), "a-guessed-key")
    verify_fails(keyed_env, tmp_path, "TAMPERED checkpoints: checkpoint #1 does not match")


def test_verify_catches_deleted_checkpoint(
    rt: Runtime, story: str, agent_key: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    post(rt, agent_key, payloads.brief(title="Second brief"))
    assert checkpoint.write_checkpoint(rt.db, KEY) == 2
    post(rt, agent_key, payloads.brief(title="Third brief"))
    assert checkpoint.write_checkpoint(rt.db, KEY) == 3
    run_sql(rt, "DELETE FROM audit_checkpoint WHERE seq = 2")
    verify_fails(keyed_env, tmp_path, "checkpoint #3 does not follow checkpoint #1")


def test_verify_without_key_says_signed_checkpoints_were_not_checked(
    story: str, env: dict[str, str], tmp_path: Path
) -> None:
    result = airlock(env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "set AIRLOCK_AUDIT_KEY" in result.stderr


def test_serve_ticker_signs_checkpoints(
    settings: Any, rt: Runtime, agent_key: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    from bot.service import build_service
    from models import AuditCheckpoint

    rt.settings = settings.model_copy(update={"audit_key": SecretStr(KEY)})
    service = build_service(rt.settings, rt)
    try:
        item_id = post(rt, agent_key, payloads.field_update())
        service.checkpoint()
        service.checkpoint()  # within the minute: nothing new
        with rt.db.read() as session:
            rows = session.exec(select(AuditCheckpoint)).all()
        assert [(cp.seq, cp.signed) for cp in rows] == [(1, True)]
        assert item_id in rows[0].heads
    finally:
        service.stop()
    run_sql(rt, "DELETE FROM event WHERE stream = :i", i=item_id)
    run_sql(rt, "DELETE FROM outbox WHERE item_id = :i", i=item_id)
    run_sql(rt, "DELETE FROM item WHERE id = :i", i=item_id)
    verify_fails(keyed_env, tmp_path, f"TAMPERED {item_id}: the whole stream is gone")


def test_changes_edited_after_approval_are_not_written_and_verify_names_them(
    rt: Runtime,
    story: str,
    keyed_env: dict[str, str],
    tmp_path: Path,
    worker: OutboxWorker,
    standin: SalesforceStandin,
) -> None:
    """`changes` edited in the database between the approval and the write-back: the write-back
    refuses to send what nobody approved, tells why, and verify names the edit."""
    before = standin.get("Opportunity", payloads.OPP_ID)
    edited = [{"field": "StageName", "value": "Closed Lost", "observed": "Prospecting"}]
    run_sql(rt, "UPDATE item SET changes = :v WHERE id = :i", v=json.dumps(edited), i=story)
    settle(rt, worker)
    assert [e["type"] for e in events(rt, story)][-1] == "writeback_failed"
    assert standin.get("Opportunity", payloads.OPP_ID) == before  # nothing was sent
    assert standin.applied_writes("Opportunity") == []
    with rt.db.read() as session:
        item = session.get(Item, story)
    assert item is not None and item.writeback is not None
    assert item.writeback["error"].startswith("changes changed outside Airlock after the decision")
    verify_fails(
        keyed_env,
        tmp_path,
        f"TAMPERED {story}: event #",
        "(writeback_failed) records changes other than the decision at event #",
        "edited outside Airlock after the decision",
    )
