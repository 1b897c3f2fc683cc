"""Who may do what to a workflow: its owner and admins, and the people asked to review it."""

from __future__ import annotations

from sqlmodel import col, select

from bot.core import lifecycle, refusals
from bot.core.runtime import Runtime
from models import Item
from models.types import utcnow


def is_owner(rt: Runtime, workflow_id: str, user: str) -> bool:
    """The workflow's owner or an admin."""
    return user in rt.settings.admins or rt.spec(workflow_id).spec.owner == user


def is_reviewer(rt: Runtime, workflow_id: str, user: str) -> bool:
    """Someone who has been asked to review this workflow's items."""
    with rt.db.read() as session:
        query = select(Item.id).where(
            col(Item.workflow_id) == workflow_id,
            (col(Item.assignee) == user) | (col(Item.manager) == user),
        )
        return session.exec(query.limit(1)).first() is not None


def refused(rt: Runtime, workflow_id: str, user: str, wanted: str) -> None:
    """Leave a refused attempt on the workflow's audit chain."""
    stream, type_, actor = (
        lifecycle.workflow_stream(workflow_id),
        f"{wanted}_refused",
        f"user:{user}",
    )
    with rt.db.write() as session:
        if refusals.worth_logging(session, stream, type_, actor, utcnow()):
            lifecycle.append_workflow_event(session, workflow_id, type_, actor)
