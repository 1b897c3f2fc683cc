"""Refusals leave a mark on the audit trail, but a bounded one.

Anyone in the workspace can click Approve on a card they may not decide, and anyone can type
`/airlock resume`; logging every refusal would let them grow an item's or a workflow's trail
without limit. A refusal is recorded once per person and action per window, and at most
MAX_PER_WINDOW times per stream per window; the rest are still refused, and counted in metrics.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from models import Event, Item, Workflow

WINDOW = timedelta(hours=1)
MAX_PER_WINDOW = 20


def worth_logging(session: Session, stream: str, type_: str, actor: str, now: datetime) -> bool:
    """Whether this refusal adds something the trail does not already say in this window."""
    # Lock the stream's row first (PostgreSQL; SQLite writers are serial anyway), so two
    # concurrent refusals cannot both see "none yet" and both append.
    if stream.startswith("workflow:"):
        owner = select(Workflow.id).where(col(Workflow.id) == stream.removeprefix("workflow:"))
    else:
        owner = select(Item.id).where(col(Item.id) == stream)
    session.exec(owner.with_for_update()).first()
    recent = session.exec(
        select(Event.actor)
        .where(
            col(Event.stream) == stream,
            col(Event.type) == type_,
            col(Event.at) > now - WINDOW,
        )
        .limit(MAX_PER_WINDOW)
    ).all()
    return actor not in recent and len(recent) < MAX_PER_WINDOW
