"""Which side effects follow a status: queued in the same transaction as the change."""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session

from bot.base.db import Executor
from bot.base.levels import Status
from bot.base.spec_model import WorkflowSpec
from bot.core.outbox import enqueue, enqueue_all, outbox_row
from models import Workflow

CARD = "slack.card"
NOTIFY = "slack.notify"
WRITEBACK = "salesforce.write"
REVERT = "salesforce.revert"  # an undo: prior values written back (bot/delivery/undo.py)
# Signed agent events (bot.core.agent_events queues them with the audit event they report).
WEBHOOK = "webhook"

_WRITES_ON = frozenset({Status.APPROVED, Status.EDITED, Status.AUTO_ACCEPTED})
# Only a pending item can reach these, so a card exists to re-render.
_REVIEWED = frozenset({Status.APPROVED, Status.EDITED, Status.REJECTED, Status.EXPIRED})


class ItemFacts(Protocol):
    """What effects need to know of an item (an Item row, or intake's values before insert)."""

    id: str
    workflow_id: str
    status: str
    changes: list[dict[str, Any]]
    task: dict[str, Any] | None
    record_id: str | None


def needs_writeback(item: ItemFacts, spec: WorkflowSpec, status: Status) -> bool:
    """Whether reaching `status` should write to Salesforce."""
    return (
        status in _WRITES_ON
        and spec.writeback.enabled
        and bool(item.changes or item.task)
        and item.record_id is not None
    )


def queue_effects(session: Executor, item: ItemFacts, spec: WorkflowSpec) -> None:
    """Enqueue what the item's current status calls for; safe to call twice (dedupe keys).

    One INSERT for all of them: this runs inside every decision's transaction.
    """
    status = Status(item.status)
    common: dict[str, Any] = {"item_id": item.id, "workflow_id": item.workflow_id}
    rows = []
    if status is Status.PENDING:
        rows.append(outbox_row(kind=CARD, dedupe_key=f"{item.id}:card", **common))
    elif status is Status.BLOCKED:
        payload = {"to": spec.owner, "reason": "blocked"}
        rows.append(
            outbox_row(kind=NOTIFY, dedupe_key=f"{item.id}:blocked", payload=payload, **common)
        )
    if status in _REVIEWED:
        key = f"{item.id}:card:{status.value}"
        rows.append(outbox_row(kind=CARD, dedupe_key=key, payload={"update": True}, **common))
    if needs_writeback(item, spec, status):
        rows.append(outbox_row(kind=WRITEBACK, dedupe_key=f"{item.id}:write", **common))
    enqueue_all(session, rows)


def queue_pause_notice(
    session: Session, workflow_id: str, owner: str, reason: str, headline: str
) -> None:
    """DM the owner that their workflow was paused (with a Resume button), once per pause."""
    text = f"{headline}. New items are held and queued writes wait; nothing is lost."
    queue_owner_notice(session, workflow_id, owner, reason, text)


def queue_owner_notice(
    session: Session,
    workflow_id: str,
    owner: str,
    reason: str,
    text: str,
    dedupe_key: str | None = None,
) -> None:
    """DM the owner about their workflow, once per `dedupe_key` (default: per workflow event)."""
    if dedupe_key is None:
        stamp = session.get(Workflow, workflow_id)
        dedupe_key = f"{reason}:{workflow_id}:{stamp.audit_seq if stamp else 0}"
    enqueue(
        session,
        kind=NOTIFY,
        workflow_id=workflow_id,
        pausable=False,
        dedupe_key=dedupe_key,
        payload={"to": owner, "reason": reason, "workflow": workflow_id, "text": text},
    )
