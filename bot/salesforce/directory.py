"""Who decides an item at its gate: the requested assignee or the record owner, their manager for a
manager gate, else the workflow owner; look-ups cached in Person (`people_cache`)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlmodel import col, select

from bot.base.db import Database
from bot.base.people import SlackAnswer, requested_assignee
from bot.salesforce.client import SalesforceClient, SalesforceError
from bot.salesforce.people_cache import PeopleCache
from bot.salesforce.record_owner import OWNER_FIELDS as OWNER_FIELDS  # where it lived before
from bot.salesforce.record_owner import read_owner
from models import Item, Person
from models.types import utcnow

log = logging.getLogger(__name__)

SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Reviewer:
    """Who reviews an item, their manager, their time zone, and how we found them."""

    user: str
    manager: str | None = None
    tz: str = "UTC"
    source: str = "workflow_owner"  # assignee | record_owner | workflow_owner | admin
    note: str | None = None  # why the usual route did not work, for the audit trail


class Directory(PeopleCache):
    """Slack user <-> email <-> Salesforce user <-> manager, cached in Person for `ttl`."""

    def __init__(
        self,
        db: Database,
        sf: SalesforceClient | None,
        slack: WebClient,
        ttl: timedelta = timedelta(hours=12),
        admins: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(db, slack, ttl, clock)
        self.sf, self.admins = sf, admins

    def reviewer_for(self, item: Item, owner: str) -> Reviewer:
        """Who decides the item at its gate; never raises.

        A rep-gated item goes to the assignee the agent asked for, else the record owner, else the
        workflow owner. A manager-gated item goes to that person's manager, else (no manager
        known) to the workflow owner, never to the rep. `manager` is then the level above the
        decider, for escalation. Every detour carries a note for the audit trail.
        """
        rep = self._rep_for(item, owner)
        if item.gate != "manager" or rep.source in ("workflow_owner", "admin"):
            return rep
        if rep.manager is None:
            why = f"manager gate, but no manager is known for <@{rep.user}>"
            fallback = self._fallback(owner, f"{why} ({rep.note})" if rep.note else why)
            if fallback.user == rep.user:  # the rep owns the workflow: an admin decides
                return self._admin(f"{fallback.note}; <@{rep.user}> may not approve alone")
            return fallback
        above, note = self.above(rep.manager)
        notes = "; ".join(n for n in (rep.note, note) if n) or None
        return Reviewer(rep.manager, above, self.timezone_of(rep.manager), "manager", notes)

    def _rep_for(self, item: Item, owner: str) -> Reviewer:
        requested = requested_assignee(item)
        if requested:
            found = self._assignee(requested)
        elif item.record_id and item.record_sobject:
            found = self._record_owner(item.record_sobject, item.record_id)
        else:
            found = "no assignee and no Salesforce record"
        return found if isinstance(found, Reviewer) else self._fallback(owner, found)

    def above(self, slack_user_id: str) -> tuple[str | None, str | None]:
        """The Slack id of this person's Salesforce manager (read now), and a note when none."""
        with self.db.read() as session:
            person = session.exec(
                select(Person).where(col(Person.slack_user_id) == slack_user_id)
            ).first()
        if self.sf is None or person is None or person.sf_user_id is None:
            return None, f"<@{slack_user_id}> is not linked to a Salesforce user"
        try:
            user = self.sf.get_user(person.sf_user_id)
        except SalesforceError as error:
            return None, f"could not read the manager of <@{slack_user_id}>: {error}"
        if user is None or not user.get("ManagerId"):
            return None, None
        return self._manager(str(user["ManagerId"]))

    def _assignee(self, assignee: str) -> Reviewer | str:
        if SLACK_ID.match(assignee):
            cached = self._fresh("slack_user_id", assignee)
            # a row from timezone_of alone has no Salesforce side yet: resolve the manager then
            if cached is not None and not cached.active:
                return f"assignee <@{assignee}> is inactive"
            if cached is not None and (cached.sf_user_id or self.sf is None):
                return Reviewer(assignee, cached.manager_slack_user_id, cached.tz, "assignee")
            found = self._slack_info(assignee)
        elif "@" in assignee:
            found = self._slack_by_email(assignee)
        else:
            return f"assignee {assignee!r} is neither a Slack user id nor an email"
        if found.id is None:
            return f"assignee {assignee}: {found.problem}"
        manager, note = self._manager_of_email(found)
        return Reviewer(found.id, manager, found.tz, "assignee", note)

    def _record_owner(self, sobject: str, record_id: str) -> Reviewer | str:
        if self.sf is None:
            return "no Salesforce connection, so the record owner is unknown"
        row = read_owner(self.sf, sobject, record_id)
        if isinstance(row, str):
            return row
        owner_id, email = str(row["OwnerId"]), str(row["Owner.Email"] or "")
        if not row["Owner.IsActive"]:
            return f"record owner {email or owner_id} is inactive in Salesforce"
        manager_id = row["Owner.ManagerId"]
        cached = self._fresh("sf_user_id", owner_id)
        if (
            cached is not None
            and cached.active
            and cached.slack_user_id
            and cached.email == email.lower()
            and cached.manager_sf_user_id == manager_id
        ):
            return Reviewer(
                cached.slack_user_id, cached.manager_slack_user_id, cached.tz, "record_owner"
            )
        found = self._slack_by_email(email) if email else SlackAnswer(None, problem="no email")
        if found.id is None:
            return f"record owner {email or owner_id} has no Slack account ({found.problem})"
        manager, note = self._manager(manager_id)
        self._save_person(found, owner_id, manager_id, manager)
        return Reviewer(found.id, manager, found.tz, "record_owner", note)

    def _manager_of_email(self, found: SlackAnswer) -> tuple[str | None, str | None]:
        """The manager of a Slack user, via their Salesforce User (found by email)."""
        if self.sf is None or not found.email:
            self._save_person(found, None, None, None)
            return None, None
        try:
            user = self.sf.find_one("User", "Email", found.email, ("IsActive", "ManagerId"))
        except SalesforceError as error:
            return None, f"could not look up {found.email} in Salesforce: {error}"
        if user is None:
            self._save_person(found, None, None, None)
            return None, f"{found.email} is not a Salesforce user, so no manager is known"
        manager, note = self._manager(user["ManagerId"])
        self._save_person(found, str(user["Id"]), user["ManagerId"], manager)
        return manager, note

    def _manager(self, manager_id: str | None) -> tuple[str | None, str | None]:
        """The Slack id of a Salesforce manager (User.ManagerId), and a note when unknown."""
        if not manager_id or self.sf is None:
            return None, None
        cached = self._fresh("sf_user_id", manager_id)
        if cached is None:
            try:
                user = self.sf.get_user(manager_id)
            except SalesforceError as error:
                return None, f"could not read manager {manager_id}: {error}"
            if user is None:
                return None, f"manager {manager_id} was not found in Salesforce"
            cached = self._cache_manager(manager_id, user)
        if not cached.active:
            return None, f"manager {cached.email or manager_id} is inactive in Salesforce"
        if cached.slack_user_id is None:
            return None, f"manager {cached.email or manager_id} has no Slack account"
        return cached.slack_user_id, None

    def _cache_manager(self, manager_id: str, user: dict[str, Any]) -> Person:
        email = str(user.get("Email") or "")
        active = bool(user.get("IsActive"))
        found = self._slack_by_email(email) if email and active else SlackAnswer(None)
        values: dict[str, Any] = {"sf_user_id": manager_id, "email": email.lower() or None}
        values |= {"slack_user_id": found.id, "name": str(user.get("Name") or found.name)}
        values |= {"tz": found.tz, "active": active}
        self._save(**values)
        return Person(**values)

    def _fallback(self, owner: str, why: str) -> Reviewer:
        note = f"{why}; the workflow owner reviews"
        if SLACK_ID.match(owner):
            return Reviewer(owner, None, self.timezone_of(owner), "workflow_owner", note)
        found = (
            self._slack_by_email(owner)
            if "@" in owner
            else SlackAnswer(None, problem="not a Slack user id or email")
        )
        if found.id is not None:
            return Reviewer(found.id, None, found.tz, "workflow_owner", note)
        note = f"{note}, but owner {owner} is not in Slack either ({found.problem})"
        if self.admins:
            return self._admin(note)
        log.error("no reviewer can be reached: %s", note)
        return Reviewer(owner, None, "UTC", "workflow_owner", note)

    def _admin(self, note: str) -> Reviewer:
        if not self.admins:
            log.error("no reviewer can be reached: %s", note)
            return Reviewer("", None, "UTC", "admin", f"{note}; no admin is configured")
        admin = sorted(self.admins)[0]
        return Reviewer(admin, None, self.timezone_of(admin), "admin", f"{note}: an admin reviews")
