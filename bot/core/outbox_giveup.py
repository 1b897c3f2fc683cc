"""What happens when the outbox gives a row up: the item records it and the owner is told once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from bot.core import lifecycle
from bot.core.effects import CARD, NOTIFY, REVERT, WEBHOOK, WRITEBACK
from bot.core.outbox import enqueue
from bot.core.runtime import Runtime
from models import Item, Outbox, Workflow

log = logging.getLogger(__name__)
GAVE_UP = "outbox_gave_up"  # the notice's reason; a notice about a notice is never sent
_WHAT = {
    WRITEBACK: "write-back to Salesforce",
    CARD: "review card",
    NOTIFY: "Slack notice",
    WEBHOOK: "agent event webhook",
    REVERT: "undo in Salesforce",
}


@dataclass
class GiveUp:
    """The outbox worker's `on_give_up`: runs in the transaction that marks the row dead."""

    rt: Runtime

    def __call__(self, session: Session, row: Outbox, reason: str) -> None:
        """Record the failure on the item (write-backs become `failed`) and tell the owner."""
        item = session.get(Item, row.item_id) if row.item_id else None
        if row.kind == WRITEBACK and item is not None:
            if not self._fail_writeback(session, item, reason):
                return  # the write-back already settled and said so; nothing new to tell
        elif item is not None:
            data = {"kind": row.kind, "reason": reason, "outbox_id": row.id}
            lifecycle.update_item(
                session, item.id, actor="system", event="delivery_failed", data=data
            )
        if row.kind == NOTIFY and row.payload.get("reason") == GAVE_UP:
            return  # the owner cannot be reached in Slack either: the log and trail keep it
        owner = self._owner(session, row.workflow_id)
        if owner is None or (row.kind == NOTIFY and row.payload.get("to") == owner):
            return
        what = _WHAT.get(row.kind, row.kind)
        about = f"{item.id} ({item.title})" if item is not None else (row.workflow_id or "")
        text = (
            f":warning: Airlock gave up the {what} of {about}: {reason}. Once the cause is "
            f"fixed, `airlock outbox retry --item {row.item_id}` sends it again."
            if row.item_id
            else f":warning: Airlock gave up the {what} of {about}: {reason}."
        )
        enqueue(
            session,
            kind=NOTIFY,
            dedupe_key=f"{row.dedupe_key}:gave-up",
            payload={"to": owner, "reason": GAVE_UP, "text": text},
            item_id=row.item_id,
            workflow_id=row.workflow_id,
            pausable=False,  # trouble must reach the owner even while the workflow is paused
        )

    def _fail_writeback(self, session: Session, item: Item, reason: str) -> bool:
        body = {"error": reason, "results": [], "gave_up": True}
        failed = lifecycle.update_item_if(
            session,
            item.id,
            {"writeback_state": "queued"},
            actor="system",
            event="writeback_failed",
            data=body,
            writeback_state="failed",
            writeback=body,
        )
        if failed is None:
            return False
        if failed.decided_by and not str(failed.decided_by).startswith("policy:"):
            enqueue(
                session,
                kind=CARD,
                dedupe_key=f"{item.id}:card:writeback-gave-up",
                payload={"update": True},
                item_id=item.id,
                workflow_id=item.workflow_id,
            )
        return True

    def _owner(self, session: Session, workflow_id: str | None) -> str | None:
        if workflow_id is None:
            return None
        loaded = self.rt.specs.get(workflow_id)  # specs may have been reloaded
        if loaded is not None:
            return loaded.spec.owner
        stored = session.get(Workflow, workflow_id)  # its YAML may be gone; the row is not
        return stored.owner if stored is not None else None
