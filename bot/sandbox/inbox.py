"""What the sandbox page shows: someone's DMs, Home and open modal, Salesforce, items, traces."""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Any

from sqlmodel import col, select

from bot.base.errors import NotFound
from bot.core.runtime import Runtime
from bot.core.trace import item_view
from bot.reporting import queries
from bot.sandbox.salesforce_seed import SEED_PEOPLE
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.sandbox.slack_standin import SlackStandin
from models import Item

Json = dict[str, Any]
_API_PREFIX = "/services/data/"


class ModalBook:
    """Whose modal is whose: the page mints each click's trigger id; Slack keys views on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[str, str] = {}
        self._closed: set[str] = set()

    def opened_by(self, trigger_id: str, user: str) -> None:
        """Remember who clicked: a views.open with this trigger id shows to them."""
        with self._lock:
            self._owners[trigger_id] = user

    def close(self, view_id: str) -> None:
        """The modal was submitted successfully or cancelled."""
        with self._lock:
            self._closed.add(view_id)

    def open_for(self, slack: SlackStandin, user: str) -> Json | None:
        """The newest modal the bot opened for `user` that is still open."""
        with self._lock:
            mine = [
                view
                for view in slack.views.values()
                if view.view.get("type") == "modal"
                and self._owners.get(view.trigger_id or "") == user
                and view.id not in self._closed
            ]
        return mine[-1].to_api() if mine else None

    def view(self, slack: SlackStandin, view_id: str, user: str) -> Json:
        """An open modal of `user`, as Slack sends it back in a view_submission."""
        found = self.open_for(slack, user)
        if found is None or found["id"] != view_id:
            raise NotFound(f"modal {view_id} is not open for {user}: click the button again")
        return found


def people(rt: Runtime) -> list[Json]:
    """The seeded people, labelled as the page shows them."""
    owners = {loaded.spec.owner for loaded in rt.specs.specs.values()}
    found = []
    for person in SEED_PEOPLE:
        roles = [
            *(["owner"] if person.slack_id in owners else []),
            *([person.role] if person.role in ("rep", "manager") else []),
            *(["admin"] if person.slack_id in rt.settings.admins else []),
        ]
        found.append(
            {
                "id": person.slack_id,
                "name": person.name,
                "roles": roles,
                "title": person.title,
                "tz": person.tz,
            }
        )
    return found


def person_view(slack: SlackStandin, modals: ModalBook, user: str) -> Json:
    """A person's DMs with the bot (ephemerals included), Home tab and open modal."""
    messages = [
        {
            "channel": m.channel,
            "ts": m.ts,
            "text": m.text,
            "blocks": m.blocks,
            "ephemeral": m.ephemeral_user is not None,
            "edits": len(m.history),
        }
        for m in slack.messages_for(user)
    ]
    home = slack.home_view(user)
    return {
        "messages": messages,
        "home": home.view if home else None,
        "modal": modals.open_for(slack, user),
    }


def salesforce_view(sf: SalesforceStandin | None, limit: int = 25) -> Json | None:
    """The stand-in org: applied writes, recent API calls, opportunities and tasks."""
    if sf is None:
        return None
    users = {uid: u["Name"] for uid, u in sf.records("User").items()}
    writes = []
    for write in reversed(sf.applied_writes()[-limit:]):
        record = sf.get(write.sobject, write.id) or {}
        name = record.get("Name") or record.get("Subject") or ""
        writes.append(asdict(write) | {"name": name})
    calls = [
        {
            "method": call.method,
            "path": call.path.removeprefix(_API_PREFIX),
            "status": call.status,
            "soql": call.query.get("q"),
        }
        for call in reversed(sf.calls_matching("*", "")[-limit:])
    ]
    opportunities = [
        record | {"Owner": users.get(record.get("OwnerId") or "", "")}
        for record in sf.records("Opportunity").values()
    ]
    tasks = list(sf.records("Task").values())
    return {"writes": writes, "calls": calls, "opportunities": opportunities, "tasks": tasks}


def recent_items(rt: Runtime, limit: int = 30) -> list[Json]:
    """The newest items, for the audit picker."""
    query = select(Item).order_by(col(Item.created_at).desc(), col(Item.id).desc()).limit(limit)
    with rt.db.read() as session:
        rows = list(session.exec(query))
    return [
        {
            "id": i.id,
            "title": i.title,
            "workflow": i.workflow_id,
            "kind": i.kind,
            "status": i.status,
            "gate": i.gate,
            "assignee": i.assignee,
            "authority": i.authority,
            "writeback_state": i.writeback_state,
        }
        for i in rows
    ]


def trace_of(rt: Runtime, item_id: str) -> Json:
    """One item's whole story (as GET /api/v1/items/{id} returns it)."""
    with rt.db.read() as session:
        return item_view(session, item_id)


def workflows(rt: Runtime) -> list[Json]:
    """Workflow states: paused or active, pending and held counts."""
    return [asdict(state) for state in queries.workflow_states(rt)]
