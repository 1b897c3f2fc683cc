"""Human decisions on an item: who may decide, and approve / edit / reject as compare-and-set."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot import lifecycle, refusals
from bot.effects import needs_writeback, queue_effects
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.levels import Authority, Status
from bot.runtime import Runtime
from bot.submission import qualify
from models import Item
from models.types import utcnow


class RejectReason(StrEnum):
    """Why a reviewer said no; the categories feed metrics and evals."""

    INACCURATE = "inaccurate"
    WRONG_RECORD = "wrong_record"
    TONE = "tone"
    NOT_USEFUL = "not_useful"
    ALREADY_DONE = "already_done"
    POLICY = "policy"
    OTHER = "other"


class NotPermitted(Forbidden):
    """This person may not decide this item."""

    slug, title = "not-permitted", "You cannot decide this item"


def may_decide(item: Item, user: str, admins: frozenset[str]) -> bool:
    """The assignee, the manager once escalated, and admins."""
    if user in admins or (item.assignee is not None and user == item.assignee):
        return True
    return item.escalated and item.manager is not None and user == item.manager


def effective_changes(item: Item) -> list[dict[str, Any]]:
    """The changes to write: a reviewer's edits replace the agent's proposed values."""
    edits = (item.decision or {}).get("edits", {})
    return [
        c | {"value": edits[c["field"]]["to"]} if c["field"] in edits else c for c in item.changes
    ]


def approve(rt: Runtime, item_id: str, user: str) -> Item:
    """Confirm the item as proposed."""
    return _decide(rt, item_id, user, Status.APPROVED, {"verdict": "approved"})


def editable_fields(item: Item) -> dict[str, Any]:
    """Everything a reviewer may correct, with the agent's proposed value."""
    fields: dict[str, Any] = {c["field"]: c["value"] for c in item.changes}
    fields |= {f"task.{k}": v for k, v in (item.task or {}).items()}
    if item.message:
        fields |= {
            "message.subject": item.message.get("subject", ""),
            "message.body": item.message["body"],
        }
    if not fields:
        fields["summary"] = item.summary
    return fields


def edit_choices(rt: Runtime, item: Item) -> dict[str, tuple[str, ...]]:
    """The org's picklist values for the item's record fields, from the describe cache.

    A field the cache does not know (not described yet, or not a single-value picklist) has
    none: the Edit modal then takes typed text rather than guessing the org's values.
    """
    if not item.record_sobject:
        return {}
    choices = {}
    for change in item.changes:
        meta = rt.fields.field(item.record_sobject, change["field"])
        if meta is not None and meta.type == "picklist" and meta.picklist:
            choices[change["field"]] = meta.picklist
    return choices


def edit_limits(rt: Runtime, item: Item) -> dict[str, int]:
    """Text lengths the org's field metadata sets for the fields a reviewer may edit."""
    limits: dict[str, int] = {}
    for change in item.changes:
        sobject, _, name = qualify(item.record_sobject or "", change["field"]).rpartition(".")
        meta = rt.fields.field(sobject, name)
        if meta is not None and meta.length:
            limits[change["field"]] = meta.length
    return limits


def edit(rt: Runtime, item_id: str, user: str, values: dict[str, Any]) -> Item:
    """Confirm the item with the reviewer's values for some of its fields."""
    proposed = editable_fields(_load(rt, item_id))
    unknown = sorted(set(values) - set(proposed))
    if unknown:
        raise InvalidInput(
            f"cannot edit {', '.join(unknown)}: editable are {', '.join(sorted(proposed))}"
        )
    edits = {f: {"from": proposed[f], "to": v} for f, v in values.items() if proposed[f] != v}
    if not edits:
        return approve(rt, item_id, user)
    return _decide(rt, item_id, user, Status.EDITED, {"verdict": "edited", "edits": edits})


def reject(rt: Runtime, item_id: str, user: str, category: str, text: str = "") -> Item:
    """Turn the item down, with a reason that becomes feedback."""
    try:
        reason = RejectReason(category)
    except ValueError:
        options = ", ".join(r.value for r in RejectReason)
        raise InvalidInput(f"unknown reason {category!r}: choose one of {options}") from None
    data = {"verdict": "rejected", "reason": reason.value, "text": text.strip()[:3000]}
    return _decide(rt, item_id, user, Status.REJECTED, data)


def _load(rt: Runtime, item_id: str) -> Item:
    with rt.db.read() as session:
        item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    return item


def authorize(rt: Runtime, item_id: str, user: str, wanted: str) -> Item:
    """The item, if `user` may decide it; otherwise log the refusal and raise NotPermitted."""
    item = _load(rt, item_id)
    if not may_decide(item, user, rt.settings.admins):
        raise _refuse(rt, item, user, wanted)
    return item


def _refuse(rt: Runtime, item: Item, user: str, wanted: str) -> NotPermitted:
    with rt.db.write() as session:
        if refusals.worth_logging(session, item.id, "decision_refused", f"user:{user}", utcnow()):
            lifecycle.append_item_event(
                session,
                item,
                "decision_refused",
                f"user:{user}",
                {"wanted": wanted, "assignee": item.assignee},
            )
    who = f"<@{item.assignee}>" if item.assignee else "the assigned reviewer"
    return NotPermitted(
        f"only {who}, their manager after escalation, or an admin can decide this item",
        item_id=item.id,
    )


class _Refused(Exception):
    """Raised inside the decision transaction so it rolls back before the refusal is logged."""


def _decide(rt: Runtime, item_id: str, user: str, to: Status, decision: dict[str, Any]) -> Item:
    # One transaction reads, authorises and decides; the compare-and-set settles races.
    try:
        with rt.db.write() as session:
            item = session.get(Item, item_id)
            if item is None:
                raise NotFound(f"item {item_id} does not exist")
            if not may_decide(item, user, rt.settings.admins):
                raise _Refused
            spec = rt.spec(item.workflow_id).spec
            writes = needs_writeback(item, spec, to)
            decided = lifecycle.transition(
                session,
                item_id,
                to,
                actor=f"user:{user}",
                data=decision,
                decided_by=user,
                decided_at=utcnow(),
                decision=decision,
                authority=Authority.CONFIRMED.value,
                next_due_at=None,
                writeback_state="queued" if writes else item.writeback_state,
            )
            queue_effects(session, decided, spec)
    except _Refused:
        raise _refuse(rt, _load(rt, item_id), user, to.value) from None
    rt.kick()
    return decided
