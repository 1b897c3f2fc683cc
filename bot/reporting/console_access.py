"""Who sees what in the operator console: the same rules as Slack.

Admins (AIRLOCK_ADMINS) see everything. A workflow's owner sees that workflow whole: its spec
page, its items, its patterns and its evidence. A manager sees the items of their team (the items
whose escalation manager they are), a rep the items assigned to them. Nobody else sees anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from bot.base.errors import Forbidden
from bot.core.runtime import Runtime
from models import Item, Person


@dataclass(frozen=True)
class Viewer:
    """A signed-in person and what their rights cover."""

    user: str
    admin: bool
    owns: frozenset[str]  # workflows seen whole (all of them for an admin)
    manager: bool
    reviewer: bool

    @property
    def roles(self) -> list[str]:
        """The roles, as the console's header shows them."""
        found = ["admin"] if self.admin else []
        found += ["owner"] if self.owns and not self.admin else []
        found += ["manager"] if self.manager else []
        found += ["rep"] if self.reviewer and not self.manager else []
        return found

    @property
    def anything(self) -> bool:
        """Whether the console has anything to show this person."""
        return bool(self.admin or self.owns or self.manager or self.reviewer)

    def sees_workflow(self, workflow_id: str) -> bool:
        """Spec, patterns and evidence of the workflow: its owner and admins."""
        return self.admin or workflow_id in self.owns

    def sees_item(self, item: Item) -> bool:
        """An item: its workflow's owner, its reviewer, its reviewer's manager, admins."""
        return self.sees_workflow(item.workflow_id) or self.user in (item.assignee, item.manager)


def viewer_for(rt: Runtime, user: str) -> Viewer:
    """The rights of a Slack user id, from AIRLOCK_ADMINS, the specs and who reviews what."""
    admin = user in rt.settings.admins
    specs = rt.specs.specs
    owns = (
        frozenset(specs)
        if admin
        else frozenset(w for w, s in specs.items() if s.spec.owner == user)
    )
    with rt.db.read() as session:
        # Each lookup reads one index range (item assignee/manager, person manager), LIMIT 1.
        manages = (
            session.exec(select(Item.id).where(col(Item.manager) == user).limit(1)).first()
            is not None
            or session.exec(
                select(Person.id).where(col(Person.manager_slack_user_id) == user).limit(1)
            ).first()
            is not None
        )
        reviews = (
            session.exec(select(Item.id).where(col(Item.assignee) == user).limit(1)).first()
            is not None
        )
    return Viewer(user, admin, owns, manages, reviews)


def require_workflow(viewer: Viewer, workflow_id: str) -> None:
    """Refuse a workflow's pages to anyone but its owner and admins."""
    if not viewer.sees_workflow(workflow_id):
        raise Forbidden(
            f"{viewer.user} may not see workflow {workflow_id!r}: its owner and admins may"
        )


def require_item(viewer: Viewer, item: Item) -> None:
    """Refuse an item to anyone its rules do not cover."""
    if not viewer.sees_item(item):
        raise Forbidden(
            f"{viewer.user} may not see item {item.id}: its reviewer, their manager, the "
            "workflow's owner and admins may"
        )
