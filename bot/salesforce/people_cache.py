"""The Person cache behind the directory: Slack look-ups by id and email, kept for a TTL."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.base.db import Database
from bot.base.people import SlackAnswer, slack_answer, slack_problem, upsert_person
from models import Person
from models.types import utcnow

log = logging.getLogger(__name__)


class PeopleCache:
    """Slack users by id and email, cached in Person for `ttl` (deactivations seen at once)."""

    def __init__(
        self,
        db: Database,
        slack: WebClient,
        ttl: timedelta = timedelta(hours=12),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.slack, self.ttl, self.clock = db, slack, ttl, clock

    def timezone_of(self, slack_user_id: str, *, cached_only: bool = False) -> str:
        """The person's IANA time zone from Slack users.info (cached); UTC when unknown.

        `cached_only` never calls Slack (for answers that ride on a 3-second ack): a stale
        cached zone is good enough to show times.
        """
        cached = self._fresh("slack_user_id", slack_user_id)
        if cached is not None:
            return cached.tz
        if cached_only:
            with self.db.read() as session:
                stale = session.exec(
                    select(Person).where(col(Person.slack_user_id) == slack_user_id)
                ).first()
            return stale.tz if stale else "UTC"
        found = self._slack_info(slack_user_id)
        if found.problem and not found.deactivated:
            log.warning("users.info %s failed (%s): showing UTC", slack_user_id, found.problem)
            return "UTC"
        # Only the Slack side is refreshed: bumping refreshed_at here would keep a stale
        # Salesforce manager "fresh" for another TTL.
        self._save(
            refresh=False,
            slack_user_id=slack_user_id,
            email=found.email or None,
            name=found.name,
            tz=found.tz,
            active=not found.deactivated,
        )
        return found.tz

    def _slack_by_email(self, email: str) -> SlackAnswer:
        cached = self._fresh("email", email.lower())
        if cached is not None and cached.slack_user_id and cached.active:
            return SlackAnswer(cached.slack_user_id, email.lower(), cached.name, cached.tz)
        try:
            found = slack_answer(self.slack.users_lookupByEmail(email=email)["user"])
        except (SlackClientError, OSError) as error:
            return SlackAnswer(None, email.lower(), problem=slack_problem(error))
        return self._note_deactivated(found)

    def _slack_info(self, slack_user_id: str) -> SlackAnswer:
        try:
            found = slack_answer(self.slack.users_info(user=slack_user_id)["user"])
        except (SlackClientError, OSError) as error:
            return SlackAnswer(None, problem=slack_problem(error))
        return self._note_deactivated(found)

    def _note_deactivated(self, found: SlackAnswer) -> SlackAnswer:
        # A deactivated account is no reviewer from this moment, even if a cached row says
        # otherwise: mark it inactive now rather than at the end of the TTL.
        if found.deactivated and found.slack_id:
            self._save(refresh=False, slack_user_id=found.slack_id, active=False)
        return found

    def _fresh(self, column: str, value: str) -> Person | None:
        """The cached person whose `column` is `value`, unless older than the TTL."""
        with self.db.read() as session:
            query = select(Person).where(col(getattr(Person, column)) == value)
            person = session.exec(query).first()
        if person is None or person.refreshed_at < self.clock() - self.ttl:
            return None
        return person

    def _save_person(
        self, found: SlackAnswer, sf_id: str | None, manager_sf: str | None, manager: str | None
    ) -> None:
        values: dict[str, Any] = {"slack_user_id": found.id, "email": found.email or None}
        values |= {"name": found.name, "tz": found.tz, "active": True}
        values |= {"manager_sf_user_id": manager_sf, "manager_slack_user_id": manager}
        if sf_id is not None:
            values["sf_user_id"] = sf_id
        self._save(**values)

    def _save(self, *, refresh: bool = True, **values: Any) -> None:
        """Insert or update a Person; a race with another replica is retried once.

        `refresh` restarts the TTL; without it an existing row keeps its refreshed_at (a new row
        gets now).
        """
        now = self.clock()
        if refresh:
            values["refreshed_at"] = now
        for attempt in (1, 2):
            try:
                with self.db.write() as session:
                    upsert_person(session, values, now)
                return
            except IntegrityError:
                if attempt == 2:
                    log.warning("person cache not updated for %s (concurrent refresh)", values)

    def resolve_owner(self, owner: str) -> str:
        """A workflow owner's Slack id (written as an id or an email); ValueError says why not."""
        found = self._slack_by_email(owner) if "@" in owner else self._slack_info(owner)
        if found.id is None:
            raise ValueError(f"owner {owner} is not an active Slack user ({found.problem})")
        return found.id
