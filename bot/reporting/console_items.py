"""The console's item list: filtered, newest first, paged by keyset on indexed columns.

No COUNT(*) and no OFFSET: a page reads at most `limit + 1` rows per branch of the viewer's
rights from one index range ((workflow_id | assignee | manager | -), created_at, id; migration
0010), so a page costs the same at 10,000 items as at 1,000,000. A viewer who is not an admin
sees the union of up to three branches (owned workflows, assigned to them, their team); each is
read with the same cursor and the results merged, which keeps every branch on its own index.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.base.errors import InvalidInput
from bot.core.rollups import STATS
from bot.reporting.console_access import Viewer
from bot.salesforce.ids import id_key
from models import Item

PAGE = 50


@dataclass(frozen=True)
class ItemFilter:
    """What the item list is narrowed to; every field optional."""

    workflow: str | None = None
    status: str | None = None
    agent: str | None = None
    reviewer: str | None = None
    record: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class ItemPage:
    """One page of items and the cursor of the next (None: this is the last)."""

    items: list[Item]
    next_cursor: str | None


def encode_cursor(item: Item) -> str:
    """Where the next page starts: just after this item in (created_at, id) descending order."""
    raw = f"{item.created_at.astimezone(UTC).isoformat()}|{item.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor points after; InvalidInput for a damaged one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, item_id = raw.split("|", 1)
        return datetime.fromisoformat(at), item_id
    except ValueError:
        raise InvalidInput(
            f"cursor {cursor!r} is damaged: open the list from its first page"
        ) from None


def page_items(
    session: Session, viewer: Viewer, wanted: ItemFilter, cursor: str | None, limit: int = PAGE
) -> ItemPage:
    """The page of items after `cursor` that the viewer may see and the filter keeps."""
    after = decode_cursor(cursor) if cursor else None
    if wanted.agent and not _known_agent(session, wanted.agent):
        # No index leads by agent: an unknown one would scan every item to find none.
        return ItemPage([], None)
    found: dict[str, Item] = {}
    for branch in _branches(viewer, wanted):
        query = select(Item).where(*_conditions(branch, after))
        query = query.order_by(col(Item.created_at).desc(), col(Item.id).desc()).limit(limit + 1)
        for item in session.exec(query):
            found[item.id] = item
    ordered = sorted(found.values(), key=lambda i: (i.created_at, i.id), reverse=True)
    page = ordered[:limit]
    more = len(ordered) > limit
    return ItemPage(page, encode_cursor(page[-1]) if more and page else None)


def _known_agent(session: Session, agent: str) -> bool:
    """Whether any item of this agent was counted (the all-time rollup rows, a short range)."""
    c = STATS.c
    query = sa_select(c.agent).where(c.grain == "t", c.agent == agent).limit(1)
    return session.execute(query).first() is not None


Branch = tuple[ItemFilter, ColumnElement[bool] | None]


def _branches(viewer: Viewer, wanted: ItemFilter) -> list[Branch]:
    """The filter once per right that could show an item, with that right's condition."""
    if viewer.admin:
        return [(wanted, None)]
    branches: list[Branch] = []
    if viewer.owns:
        branches.append((wanted, col(Item.workflow_id).in_(sorted(viewer.owns))))
    if wanted.reviewer in (None, viewer.user):
        branches.append((replace(wanted, reviewer=viewer.user), None))
    # A manager's team: the items of which they are the escalation manager.
    branches.append((wanted, col(Item.manager) == viewer.user))
    return branches


def _conditions(branch: Branch, after: tuple[datetime, str] | None) -> list[ColumnElement[bool]]:
    wanted, right = branch
    found: list[ColumnElement[bool]] = [] if right is None else [right]
    equal = (
        (Item.workflow_id, wanted.workflow),
        (Item.status, wanted.status),
        (Item.agent, wanted.agent),
        (Item.assignee, wanted.reviewer),
        (Item.record_id, id_key(wanted.record)),  # intake stores the 18-character form
    )
    found += [col(column) == value for column, value in equal if value]
    if wanted.since:
        found.append(col(Item.created_at) >= wanted.since)
    if wanted.until:
        found.append(col(Item.created_at) < wanted.until)
    if after is not None:
        at, item_id = after
        found.append(
            or_(
                col(Item.created_at) < at,
                and_(col(Item.created_at) == at, col(Item.id) < item_id),
            )
        )
    return found
