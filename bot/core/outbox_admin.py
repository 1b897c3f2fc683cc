"""`airlock outbox`: list stuck and dead side effects per kind, and requeue them (audited)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from bot.base.db import Database
from bot.core import lifecycle
from bot.core.effects import WRITEBACK
from models import Item, Outbox
from models.types import utcnow


@dataclass(frozen=True)
class Stuck:
    """One row that is not getting delivered: failed at least once, or given up."""

    id: int
    kind: str
    status: str  # "stuck" (still pending, has failed) | "dead"
    item_id: str | None
    workflow_id: str | None
    attempts: int
    error: str
    since: datetime


def _troubled(kind: str | None, item_id: str | None) -> list[ColumnElement[bool]]:
    # failed at least once, or claimed by a worker that died before it could say how it went
    crashed = and_(col(Outbox.attempts) > 0, col(Outbox.lease_until) < utcnow())
    failing = and_(
        col(Outbox.status) == "pending", or_(col(Outbox.last_error).is_not(None), crashed)
    )
    where: list[ColumnElement[bool]] = [or_(col(Outbox.status) == "dead", failing)]
    if kind:
        where.append(col(Outbox.kind) == kind)
    if item_id:
        where.append(col(Outbox.item_id) == item_id)
    return where


def stuck_rows(db: Database, *, kind: str | None = None, item_id: str | None = None) -> list[Stuck]:
    """Dead rows, and pending rows whose last attempt failed, oldest first."""
    with db.read() as session:
        rows = session.exec(
            select(Outbox).where(*_troubled(kind, item_id)).order_by(col(Outbox.created_at))
        ).all()
    return [
        Stuck(
            id=row.id or 0,
            kind=row.kind,
            status="dead" if row.status == "dead" else "stuck",
            item_id=row.item_id,
            workflow_id=row.workflow_id,
            attempts=row.attempts,
            error=row.last_error or "",
            since=_since(row),
        )
        for row in rows
    ]


def _since(row: Outbox) -> datetime:
    stamp = (row.result or {}).get("waiting_since") if row.status == "pending" else None
    return datetime.fromisoformat(stamp) if isinstance(stamp, str) else row.created_at


def render(rows: list[Stuck]) -> str:
    """Per kind: how many are stuck and dead, then one line per row."""
    if not rows:
        return "outbox: nothing stuck or dead"
    lines = []
    for kind in sorted({r.kind for r in rows}):
        mine = [r for r in rows if r.kind == kind]
        dead = sum(r.status == "dead" for r in mine)
        lines.append(f"{kind}: {len(mine) - dead} stuck, {dead} dead")
        for r in mine:
            about = r.item_id or r.workflow_id or "-"
            lines.append(
                f"  {r.status:<5} #{r.id} {about} attempts={r.attempts} "
                f"since {r.since:%Y-%m-%d %H:%M} UTC: {r.error}"
            )
    lines.append("requeue with: airlock outbox retry [--kind K] [--item ID]")
    return "\n".join(lines)


def requeue(
    db: Database, *, kind: str | None = None, item_id: str | None = None, actor: str = ""
) -> list[Stuck]:
    """Make stuck and dead rows due now with a fresh budget; each item's trail records it."""
    actor = actor or _cli_actor()
    found = stuck_rows(db, kind=kind, item_id=item_id)
    now = utcnow()
    idle = or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now)
    done = []
    with db.write() as session:
        for row in found:
            # never a row a worker holds right now: it would be delivered twice
            result = session.execute(
                update(Outbox)
                .where(col(Outbox.id) == row.id, idle, *_troubled(None, None))
                .values(
                    status="pending",
                    attempts=0,
                    due_at=now,
                    lease_until=None,
                    claimed_by=None,
                    done_at=None,
                    result=None,
                    # kept non-empty: a card post seeing it reads Slack's history before posting
                    last_error=f"requeued by {actor} (was: {row.error or row.status})",
                )
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                _audit(session, row, actor)
                done.append(row)
    return done


def _audit(session: Session, row: Stuck, actor: str) -> None:
    data = {"outbox_id": row.id, "kind": row.kind, "was": row.status, "error": row.error}
    if row.item_id is None or session.get(Item, row.item_id) is None:
        if row.workflow_id:
            lifecycle.append_workflow_event(
                session, row.workflow_id, "outbox_requeued", actor, data
            )
        return
    fields: dict[str, object] = {}
    item = session.get(Item, row.item_id)
    if row.kind == WRITEBACK and item is not None and item.writeback_state == "failed":
        fields = {"writeback_state": "queued", "writeback": {"requeued": row.error}}
    lifecycle.update_item(
        session, row.item_id, actor=actor, event="outbox_requeued", data=data, **fields
    )


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
