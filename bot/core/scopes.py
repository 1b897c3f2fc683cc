"""Reading scoped stop buttons: which agents and records are paused, and whether an item is held.

Written by bot/core/scoped_pause.py; read here by intake, release and the timers.
"""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, bindparam, false, or_, select
from sqlmodel import SQLModel

from bot.base.db import Executor
from bot.base.errors import InvalidInput
from bot.salesforce.ids import to_18

AGENT, RECORD = "agent", "record"
_SCOPES: Table = SQLModel.metadata.tables["pause_scope"]
_ITEMS: Table = SQLModel.metadata.tables["item"]
_DURATION = re.compile(r"(\d+)([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
MAX_FOR = timedelta(days=30)


@dataclass(frozen=True)
class Scope:
    """`agent:<name>` or `record:<18-character id>`."""

    kind: str
    target: str

    @property
    def label(self) -> str:
        """How people write it, and how the trail names it."""
        return f"{self.kind}:{self.target}"


def parse_scope(text: str) -> Scope:
    """`agent:<name>` or `record:<15- or 18-character Salesforce id>`, else a clear error."""
    kind, sep, target = text.partition(":")
    if not sep or kind not in (AGENT, RECORD) or not target:
        raise InvalidInput(f"{text!r} is not a scope: write agent:<name> or record:<id>")
    if kind == RECORD:
        try:
            target = to_18(target)
        except ValueError as exc:
            raise InvalidInput(f"record:{target}: {exc}") from None
    return Scope(kind, target)


def parse_for(words: list[str]) -> tuple[timedelta | None, list[str]]:
    """A leading `for 2h` (m, h or d; at most 30 days) and the words after it."""
    if len(words) < 2 or words[0].lower() != "for":
        return None, words
    found = _DURATION.fullmatch(words[1].lower())
    if not found:
        raise InvalidInput(f"`for {words[1]}`: write a duration like 30m, 2h or 3d")
    span = timedelta(**{_UNITS[found[2]]: int(found[1])})
    if not timedelta(minutes=1) <= span <= MAX_FOR:
        raise InvalidInput(f"`for {words[1]}`: a scoped pause lasts 1 minute to 30 days")
    return span, words[2:]


def record_forms(record_id: str) -> list[str]:
    """The forms an item may carry a record id in: intake stores the 18-character form, items
    stored before it did may carry the 15-character one as the agent sent it."""
    return [record_id, record_id[:15]]


# Built once: intake runs it in every submission's transaction. A missing record binds None,
# which equals no target.
_HOLDING = (
    select(_SCOPES.c.kind, _SCOPES.c.target)
    .where(
        or_(
            (_SCOPES.c.kind == AGENT) & (_SCOPES.c.target == bindparam("agent")),
            (_SCOPES.c.kind == RECORD) & (_SCOPES.c.target == bindparam("record")),
        )
    )
    .limit(1)
)


def holding(session: Executor, agent: str, record_id: str | None) -> Scope | None:
    """The scope that holds a new item of this agent on this record, if any."""
    record = None
    if record_id:
        # Not an id: intake refuses it elsewhere, and no record scope can name it.
        with suppress(ValueError):
            record = to_18(record_id)
    row = session.execute(_HOLDING, {"agent": agent, "record": record}).first()
    return Scope(row.kind, row.target) if row else None


def held_by_scope(session: Executor) -> ColumnElement[bool]:
    """A condition on items: some pressed scope covers them (read now, used in one query)."""
    rows = session.execute(select(_SCOPES.c.kind, _SCOPES.c.target)).all()
    agents = [r.target for r in rows if r.kind == AGENT]
    records = [form for r in rows if r.kind == RECORD for form in record_forms(r.target)]
    conditions = []
    if agents:
        conditions.append(_ITEMS.c.agent.in_(agents))
    if records:
        conditions.append(_ITEMS.c.record_id.in_(records))
    return or_(*conditions) if conditions else false()


def covers(scope: Scope) -> ColumnElement[bool]:
    """A condition on items: this scope covers them."""
    if scope.kind == AGENT:
        return _ITEMS.c.agent == scope.target
    return _ITEMS.c.record_id.in_(record_forms(scope.target))


def due(session: Executor, now: datetime) -> list[Scope]:
    """Scopes whose `for` has run out."""
    query = select(_SCOPES.c.kind, _SCOPES.c.target).where(
        _SCOPES.c.until.is_not(None), _SCOPES.c.until <= now
    )
    return [Scope(r.kind, r.target) for r in session.execute(query)]
