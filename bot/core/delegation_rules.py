"""Reading delegations: parsing `until DATE`, and where a person's items go while they are away.

Written by bot/core/delegation.py; read here by card routing, escalation and deciding rights.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Table, select
from sqlmodel import SQLModel

from bot.base.db import Executor
from bot.base.errors import InvalidInput
from bot.base.quiet import zone

DEFAULT_DAYS = 7  # `until` omitted: through the 7th day from today, in the delegator's zone
MAX_DAYS = 90
_DELEGATIONS: Table = SQLModel.metadata.tables["delegation"]


def end_of_day(day: date, tz: str) -> datetime:
    """The first moment after `day` in the zone `tz` (midnight that ends it), as an aware time."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone(tz))


def parse_until(words: list[str], now: datetime, tz: str) -> datetime:
    """`until YYYY-MM-DD` (end of that day in `tz`), or the default; today to 90 days ahead."""
    today = now.astimezone(zone(tz)).date()
    if not words:
        return end_of_day(today + timedelta(days=DEFAULT_DAYS), tz)
    if len(words) != 2 or words[0].lower() != "until":
        raise InvalidInput("usage: /airlock delegate @person [until YYYY-MM-DD]")
    try:
        day = date.fromisoformat(words[1])
    except ValueError:
        raise InvalidInput(f"`until {words[1]}`: write the last day as YYYY-MM-DD") from None
    if day < today:
        raise InvalidInput(f"`until {day}` is in the past (today is {today} in {tz})")
    if day > today + timedelta(days=MAX_DAYS):
        raise InvalidInput(f"`until {day}`: a delegation lasts at most {MAX_DAYS} days")
    return end_of_day(day, tz)


def delegate_of(session: Executor, person: str | None, now: datetime) -> str | None:
    """Who decides for `person` now, if they delegated (one hop: chains are refused)."""
    if not person:
        return None
    query = select(_DELEGATIONS.c.delegate).where(
        _DELEGATIONS.c.delegator == person, _DELEGATIONS.c.until > now
    )
    found = session.execute(query).scalar()
    return str(found) if found else None
