"""Human decisions on an item: who may decide, and approve / edit / reject as compare-and-set."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from bot.base.errors import Forbidden, InvalidInput, NotFound
from bot.base.levels import Authority, Gate, Status
from bot.core import lifecycle, refusals
from bot.core.edit_meta import edit_choices as edit_choices
from bot.core.edit_meta import edit_limits as edit_limits
from bot.core.effects import needs_writeback, queue_effects
from bot.core.policy import regate
from bot.core.runtime import Runtime
from bot.core.spans import trace_decision
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
    ALL_DECLINED = "all_declined"  # the Edit modal with every proposed change unticked


class NotPermitted(Forbidden):
    """This person may not decide this item."""

    slug, title = "not-permitted", "You cannot decide this item"


def may_decide(item: Item, user: str, admins: frozenset[str]) -> bool:
    """The assignee (and whoever delegated it to them), the manager once escalated, admins."""
    if user in admins or user in {item.assignee, item.delegator} - {None}:
        return True
    return item.escalated and item.manager is not None and user == item.manager


def escalation_target(item: Item, owner: str) -> tuple[str | None, str | None]:
    """Who is above the item's decider: their manager, else the workflow owner, else nobody.

    Returns the person and, when the usual route does not apply, a note for the audit trail.
    """
    holder = item.assignee
    if item.manager and item.manager != holder:
        return item.manager, None
    if owner and owner != holder:
        return owner, f"no manager above <@{holder}> is known: the workflow owner decides"
    return None, f"nobody is above <@{holder}>: they own the workflow and no manager is known"


def may_see(item: Item, user: str, admins: frozenset[str], owner: str) -> bool:
    """The item's reviewers (assignee, manager), its workflow's owner and admins."""
    return user in admins or user == owner or user in {item.assignee, item.manager} - {None}


def effective_changes(item: Item) -> list[dict[str, Any]]:
    """The changes to write: a reviewer's edits replace the agent's values; declined ones go."""
    edits = (item.decision or {}).get("edits", {})
    declined = set((item.decision or {}).get("declined", ()))
    return [
        c | {"value": edits[c["field"]]["to"]} if c["field"] in edits else c
        for c in item.changes
        if c["field"] not in declined
    ]


def approve(rt: Runtime, item_id: str, user: str, via: str | None = None) -> Item:
    """Confirm the item as proposed (`via` names where, e.g. a bundle message, for the audit)."""
    decision = {"verdict": "approved"} | ({"via": via} if via else {})
    return _decide(rt, item_id, user, Status.APPROVED, decision)


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


def edit(
    rt: Runtime, item_id: str, user: str, values: dict[str, Any], declined: Sequence[str] = ()
) -> Item:
    """Confirm the item with the reviewer's values for some fields, without the `declined` ones.

    Declining every proposed change is a rejection (reason `all_declined`).
    """
    item = _load(rt, item_id)
    proposed = editable_fields(item)
    unknown = sorted(set(values) - set(proposed))
    if unknown:
        raise InvalidInput(
            f"cannot edit {', '.join(unknown)}: editable are {', '.join(sorted(proposed))}"
        )
    changes = [c["field"] for c in item.changes]
    dropped = sorted(set(declined))
    if set(dropped) - set(changes):
        raise InvalidInput(f"cannot decline {dropped}: only proposed changes {changes} can be")
    if changes and set(dropped) == set(changes):
        return reject(rt, item_id, user, RejectReason.ALL_DECLINED, "all changes declined", dropped)
    edits = {
        f: {"from": proposed[f], "to": v}
        for f, v in values.items()
        if proposed[f] != v and f not in dropped
    }
    if not edits and not dropped:
        return approve(rt, item_id, user)
    decision = {"verdict": "edited", "edits": edits, "declined": dropped}
    return _decide(rt, item_id, user, Status.EDITED, decision, vet=_vet_edit)


class EditRaisesGate(Forbidden):
    """The edited values need a gate above the editor's: the edit is refused, nothing changes."""

    slug, title = "edit-raises-gate", "This edit needs a higher gate"


def decider_right(item: Item, user: str, admins: frozenset[str], owner: str) -> Gate:
    """The highest gate this decider may pass: manager for managers, the owner and admins."""
    if user in admins or user == owner:
        return Gate.MANAGER
    if item.gate == Gate.MANAGER.value and user in {item.assignee, item.delegator}:
        return Gate.MANAGER
    if item.escalated and user == item.manager:
        return Gate.MANAGER
    return Gate.REP


def _vet_edit(item: Item, user: str, rt: Runtime, decision: dict[str, Any]) -> None:
    # The gate rules and checks run again on the edited values: a rep must not be able to raise
    # an Amount past the manager threshold, or write pricing language, and approve it alone.
    spec = rt.spec(item.workflow_id).spec
    edited = {name: edit["to"] for name, edit in decision["edits"].items()}
    gate, reasons = regate(item.raw, edited, spec)
    right = decider_right(item, user, rt.settings.admins, spec.owner)
    if gate.rank <= max(right.rank, Gate(item.gate).rank):
        return
    why = "; ".join(r.split(": ", 1)[-1] for r in reasons if r.startswith(("rule", "check")))
    if gate is Gate.BLOCK:
        text = f"Not saved: with these values the item would be blocked ({why}). Change them."
    else:
        text = (
            f"Not saved: with these values the item needs a {gate.value} ({why}). Keep the "
            "values within your approval, or reject it so the agent resubmits."
        )
    raise _Refused(text, {"gate": gate.value, "reasons": reasons, "edits": decision["edits"]})


def reject(
    rt: Runtime,
    item_id: str,
    user: str,
    category: str,
    text: str = "",
    declined: Sequence[str] = (),
) -> Item:
    """Turn the item down, with a reason that becomes feedback."""
    try:
        reason = RejectReason(category)
    except ValueError:
        options = ", ".join(r.value for r in RejectReason)
        raise InvalidInput(f"unknown reason {category!r}: choose one of {options}") from None
    data: dict[str, Any] = {
        "verdict": "rejected",
        "reason": reason.value,
        "text": text.strip()[:3000],
    }
    if declined:
        data["declined"] = list(declined)
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
    """Raised inside the decision transaction so it rolls back before the refusal is logged.

    Without arguments: the person may not decide. With a message and data: they may, but not
    this way (an edit that needs a higher gate).
    """

    def __init__(self, message: str = "", data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message, self.data = message, data


Vet = Callable[[Item, str, Runtime, dict[str, Any]], None]


def _authorised_transition(
    session: Session,
    rt: Runtime,
    item_id: str,
    user: str,
    to: Status,
    decision: dict[str, Any],
    vet: Vet | None,
) -> Item:
    """Check the person may decide (and `vet` the edit), then move the item and queue effects."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    if not may_decide(item, user, rt.settings.admins):
        raise _Refused
    if vet is not None and item.status == Status.PENDING.value:
        vet(item, user, rt, decision)
    spec = rt.spec(item.workflow_id).spec
    writes = needs_writeback(item, spec, to)
    if item.delegator and user != item.delegator:
        decision = decision | {"for": item.delegator}  # the trail: for the delegator, by user
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
    return decided


def _decide(
    rt: Runtime,
    item_id: str,
    user: str,
    to: Status,
    decision: dict[str, Any],
    vet: Vet | None = None,
) -> Item:
    # One transaction reads, authorises and decides; the compare-and-set settles races.
    try:
        with rt.db.write() as session:
            decided = _authorised_transition(session, rt, item_id, user, to, decision, vet)
    except _Refused as refused:
        if refused.data is None:
            raise _refuse(rt, _load(rt, item_id), user, to.value) from None
        item = _load(rt, item_id)
        with rt.db.write() as session:
            lifecycle.append_item_event(session, item, "edit_refused", f"user:{user}", refused.data)
        raise EditRaisesGate(refused.message, item_id=item_id) from None
    trace_decision(decided, user, to.value, rt.clock())
    rt.kick()
    return decided
