"""The directory's plain parts: Slack's answer about a user, the Person upsert, and the reviewer
an agent asked for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, select

from models import Item, Person


@dataclass(frozen=True)
class SlackAnswer:
    """A Slack lookup's answer: the user, or why there is none."""

    id: str | None
    email: str = ""
    name: str = ""
    tz: str = "UTC"
    problem: str | None = None
    slack_id: str | None = None  # set even when the account is deactivated

    @property
    def deactivated(self) -> bool:
        """Slack answered with the account, marked deleted."""
        return self.id is None and self.slack_id is not None


def upsert_person(session: Session, values: dict[str, Any], now: datetime) -> None:
    """Insert or update the Person holding these Slack/Salesforce ids (a new row is stamped now)."""
    keys = {name: values[name] for name in ("slack_user_id", "sf_user_id") if values.get(name)}
    holders = {
        name: session.exec(select(Person).where(col(getattr(Person, name)) == value)).first()
        for name, value in keys.items()
    }
    person = next((row for row in holders.values() if row is not None), None)
    person = person or Person(refreshed_at=now)
    for name, holder in holders.items():
        if holder is not None and holder is not person:
            # the id now belongs to this person (e.g. a Slack account re-linked): move it
            setattr(holder, name, None)
    session.flush()
    for name, value in values.items():
        setattr(person, name, value)
    session.add(person)


def slack_answer(user: dict[str, Any]) -> SlackAnswer:
    """A users.info / users.lookupByEmail `user` object as the directory reads it."""
    profile = user.get("profile") or {}
    email = str(profile.get("email") or "").lower()
    name = str(user.get("real_name") or profile.get("real_name") or user.get("name") or "")
    tz = str(user.get("tz") or "UTC")
    slack_id = str(user["id"])
    # users.info and users.lookupByEmail answer for deactivated accounts too, with
    # `deleted: true` (https://api.slack.com/types/user): such a person cannot review.
    if user.get("deleted"):
        return SlackAnswer(None, email, name, tz, "deactivated in Slack", slack_id)
    return SlackAnswer(slack_id, email, name, tz, slack_id=slack_id)


def requested_assignee(item: Item) -> str | None:
    """The reviewer the agent asked for, from the stored submission; a request, not a right."""
    try:
        raw = json.loads(item.raw)
    except ValueError:
        return None
    value = raw.get("assignee") if isinstance(raw, dict) else None
    return str(value) if value else None


def slack_problem(error: Exception) -> str:
    """Why a Slack lookup failed, in words for the audit trail."""
    if isinstance(error, SlackApiError):
        return f"Slack: {error.response.get('error', 'error')}"
    return f"Slack unreachable: {error}"
