"""The pull feed: the events webhooks carry, paged by an opaque cursor, for agents without one."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from typing import Any

from sqlalchemy import BigInteger, Text, cast, func, tuple_
from sqlmodel import Session, col, select

from bot.base.errors import InvalidInput
from models import AgentEvent

_PREFIX = "ev1:"


def cursor_of(tx: int, event_row_id: int) -> str:
    """The opaque cursor that resumes the feed after this event."""
    text = f"{_PREFIX}{tx}:{event_row_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def position(cursor: str | None) -> tuple[int, int]:
    """Where a cursor points ((0, 0): the start); InvalidInput for one the feed did not hand out."""
    if not cursor:
        return 0, 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    tx, _, number = text.removeprefix(_PREFIX).partition(":")
    if not (text.startswith(_PREFIX) and tx.isdigit() and number.isdigit()):
        raise InvalidInput(
            f"cursor {cursor[:60]!r} is not one this feed returned: pass `next_cursor` from the "
            "last page as `after`, or leave `after` out to start from the first event"
        )
    return int(tx), int(number)


def page(
    session: Session, workflows: Collection[str] | None, after: str | None, limit: int
) -> dict[str, Any]:
    """Up to `limit` events after the cursor, of `workflows` (None: every workflow)."""
    start = position(after)
    order = (col(AgentEvent.tx), col(AgentEvent.id))
    query = select(AgentEvent).where(tuple_(*order) > tuple_(*start))
    if session.get_bind().dialect.name == "postgresql":
        # Only what every transaction still running cannot precede (see AgentEvent.tx).
        xmin = func.pg_snapshot_xmin(func.pg_current_snapshot())
        query = query.where(col(AgentEvent.tx) < cast(cast(xmin, Text), BigInteger))
    if workflows is not None:
        query = query.where(col(AgentEvent.workflow_id).in_(list(workflows)))
    rows = list(session.exec(query.order_by(*order).limit(limit + 1)))
    shown = rows[:limit]
    last = (shown[-1].tx, shown[-1].id or 0) if shown else start
    return {
        "events": [{"id": e.event_id, **e.body} for e in shown],
        # Poll again with this; on an empty page it is the cursor you sent.
        "next_cursor": cursor_of(*last) if (shown or after) else None,
        "has_more": len(rows) > limit,
    }
