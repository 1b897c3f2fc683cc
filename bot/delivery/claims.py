"""Claiming due items across replicas: the due column is pushed past a lease in one UPDATE, so
each due item is taken by one sweep; work that fails comes back when the lease runs out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Table, update
from sqlmodel import SQLModel, select

from bot.base.db import Database

_ITEMS: Table = SQLModel.metadata.tables["item"]


def claim_items(
    db: Database, column: str, due: ColumnElement[bool], lease_until: datetime, limit: int
) -> list[str]:
    """Ids of up to `limit` items matching `due`, earliest `column` first, now leased."""
    with db.read() as session:
        if session.execute(select(_ITEMS.c.id).where(due).limit(1)).first() is None:
            return []  # the common case costs one indexed read, no write transaction
    pick = select(_ITEMS.c.id).where(due).order_by(_ITEMS.c[column]).limit(limit)
    if not db.is_sqlite:
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(_ITEMS)
        .where(_ITEMS.c.id.in_(pick.scalar_subquery()))
        .values({column: lease_until})
        .returning(_ITEMS.c.id)
    )
    with db.write() as session:
        return [row[0] for row in session.execute(stmt)]
