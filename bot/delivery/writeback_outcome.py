"""What one item's write-back achieved: recorded on the item, and told to who must know."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot.base.mrkdwn import esc
from bot.base.spec_model import WorkflowSpec
from bot.core import lifecycle
from bot.core.effects import CARD, NOTIFY
from bot.core.outbox import Outcome, enqueue_all, outbox_row
from bot.delivery.writeback_record import ItemChange, update_items
from bot.salesforce.client import SalesforceError
from models import Item, Outbox
from models.types import utcnow

LIMIT_DELAY = 300.0  # REQUEST_LIMIT_EXCEEDED: the org's rolling allowance needs minutes
AUTH_DELAY = 900.0  # credentials refused after a fresh login need a person, not a quick retry
_SEVERITY = {"written": 0, "conflict": 1, "failed": 2, "refused": 2}
_STATES = ("written", "conflict", "failed")
_KEEP_WHILE_WAITING = ("task_intent", "task_intent_at", "task_id")
_UNDESERIALIZABLE = re.compile(r"from \w+ value (.*?) or request may be missing", re.DOTALL)


def unreadable(error: SalesforceError, record: Mapping[str, Any]) -> str | None:
    """ "Field: Salesforce cannot read the value 'x'." for a JSON_PARSER_ERROR, whose message names
    the value and a column of the body but not the field; None when no sent value matches."""
    value = unreadable_value(error)
    fields = [name for name, sent in record.items() if name != "Id" and str(sent) == value]
    if value is None or not fields:
        return None
    return f"{', '.join(fields)}: Salesforce cannot read the value {value!r}."


def unreadable_value(error: SalesforceError) -> str | None:
    """The value a JSON_PARSER_ERROR says Salesforce could not deserialize, as text."""
    match = _UNDESERIALIZABLE.search(error.message or "")
    return None if match is None else match[1]


@dataclass
class WriteJob:
    """One item's write in a delivery: per-field results and how the attempt ended."""

    row: Outbox
    item: Item
    spec: WorkflowSpec
    results: list[dict[str, Any]] = field(default_factory=list)
    send: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> change to PATCH
    retry: str | None = None
    delay: float | None = None
    alert: str | None = None  # "limit" | "auth": trouble to tell people about
    error: str | None = None
    task_id: str | None = None
    implicit: dict[str, str] = field(default_factory=dict)  # field -> item Airlock wrote it for

    @property
    def settled(self) -> bool:
        """Nothing more to try in this delivery."""
        return self.retry is not None or self.error is not None

    def setback(self, error: SalesforceError) -> None:
        """A call failed: fatal errors fail the item, the rest are tried again later."""
        if error.kind == "fatal":
            detail = f"{error.error_code}: {error.message}" if error.error_code else error.message
            self.fail(detail or str(error))
            return
        self.retry = f"Salesforce {error.kind}: {error.message or error}"
        self.delay = {"limit": LIMIT_DELAY, "auth": AUTH_DELAY}.get(error.kind)
        self.alert = error.kind if error.kind in ("limit", "auth") else None

    def hold(self, reason: str, delay: float | None) -> None:
        """Not sent in this delivery (an earlier write of the same field goes first)."""
        self.retry, self.delay = reason, delay

    def fail(self, message: str) -> None:
        """Fail for good; fields still waiting to be sent are marked failed with the reason."""
        self.error = message
        for result in self.results:
            if result["field"] in self.send:
                result |= {"state": "failed", "message": message}
        self.send = {}

    def state(self) -> str:
        """written | conflict | failed: the worst of the fields (a refusal counts as failed)."""
        if self.error is not None:
            return "failed"
        return _STATES[max((_SEVERITY[r["state"]] for r in self.results), default=0)]


def settle_all(
    session: Session, jobs: list[WriteJob], admins: frozenset[str]
) -> dict[int, Outcome]:
    """Record each item's write-back state and tell people; returns the outbox outcomes.

    Settled items are recorded together (writeback_record.update_items) and their notices queued
    in one statement; an item still waiting is rare and recorded on its own.
    """
    outcomes: dict[int, Outcome] = {}
    changes: list[ItemChange] = []
    notices: list[dict[str, Any]] = []
    for job in jobs:
        if job.retry is not None and job.row.attempts < job.row.max_attempts:
            outcomes[job.row.id or 0] = _wait(session, job, job.retry, admins)
            continue
        state, body = _result(job)
        fields = {"writeback_state": state, "writeback": body}
        changes.append(ItemChange(job.item, f"writeback_{state}", body, fields))
        notices += _tell_settled(job, state, body)
        failed = state == "failed"
        outcome = Outcome.dead(body["error"], result=body) if failed else None
        outcomes[job.row.id or 0] = outcome or Outcome.done(state, result=body)
    update_items(session, changes, actor="system")
    enqueue_all(session, notices)
    return outcomes


def _result(job: WriteJob) -> tuple[str, dict[str, Any]]:
    """The item's final write-back state and the details stored with it."""
    if job.retry is not None:
        job.fail(f"gave up after {job.row.attempts} attempts: {job.retry}")
    state = job.state()
    body: dict[str, Any] = {"results": job.results, "attempts": job.row.attempts}
    if job.task_id:
        body["task_id"] = job.task_id
    if state == "failed":
        refused = [r["message"] for r in job.results if r["state"] == "refused"]
        body["error"] = job.error or "; ".join(refused)
    return state, body


def _wait(session: Session, job: WriteJob, reason: str, admins: frozenset[str]) -> Outcome:
    """Still queued: the item says why and how often it was tried (a task intent is kept)."""
    stored = session.get(Item, job.item.id, populate_existing=True)
    kept = (stored.writeback if stored else None) or {}  # as stored: a task intent must survive
    waiting = {k: v for k, v in kept.items() if k in _KEEP_WHILE_WAITING}
    # Outages do not spend attempts (Outcome.wait); the card says since when Salesforce is awaited.
    since = (job.row.result or {}).get("waiting_since") or utcnow().isoformat()
    waiting |= {"retry": reason, "attempts": job.row.attempts, "waiting_since": since}
    if waiting != kept:  # one event per change of reason, not one per retry of a long outage
        lifecycle.update_item(
            session,
            job.item.id,
            actor="system",
            event="writeback_retry",
            data=waiting,
            writeback=waiting,
        )
    enqueue_all(session, _tell_waiting(job, admins))
    # an API limit or refused credentials stop every write of the org, not just this one
    return Outcome.wait(reason, job.delay, hold=job.alert is not None)


def _has_card(item: Item) -> bool:
    # Only items a person decided were shown on a card; auto-accepted ones have none to update.
    return bool(item.decided_by) and not str(item.decided_by).startswith("policy:")


def _card(item: Item, step: str) -> list[dict[str, Any]]:
    if not _has_card(item):
        return []
    return [
        outbox_row(
            kind=CARD,
            dedupe_key=f"{item.id}:card:{step}",
            payload={"update": True},
            item_id=item.id,
            workflow_id=item.workflow_id,
        )
    ]


def _notify(job: WriteJob, to: str, reason: str, text: str, key: str) -> dict[str, Any]:
    return outbox_row(
        kind=NOTIFY,
        dedupe_key=key,
        payload={"to": to, "reason": reason, "text": text},
        item_id=job.item.id,
        workflow_id=job.item.workflow_id,
        # org-wide trouble must reach people even while this workflow is paused
        pausable=reason not in ("salesforce_limit", "salesforce_auth"),
    )


def _tell_waiting(job: WriteJob, admins: frozenset[str]) -> list[dict[str, Any]]:
    """The card says the write waits; owner (and admins, for the API limit) hear of trouble."""
    item, hour = job.item, utcnow().strftime("%Y%m%d%H")
    rows = _card(item, "writeback-wait")
    if job.alert == "limit":
        text = (
            "Salesforce's API request limit is reached (REQUEST_LIMIT_EXCEEDED). Write-backs of "
            f"{item.workflow_id} wait and retry in {int(LIMIT_DELAY // 60)} minutes; nothing is "
            "lost."
        )
        for to in sorted({job.spec.owner, *admins}):
            rows.append(_notify(job, to, "salesforce_limit", text, f"sf-limit:{to}:{hour}"))
    elif job.alert == "auth":
        text = (
            "Salesforce rejected Airlock's credentials even after signing in again. Write-backs "
            f"of {item.workflow_id} wait; check the SALESFORCE_* settings and the connected app."
        )
        to = job.spec.owner
        rows.append(_notify(job, to, "salesforce_auth", text, f"sf-auth:{to}:{hour}"))
    return rows


def _tell_settled(job: WriteJob, state: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Re-render the card; the owner hears of failures, the reviewer of conflicts."""
    item = job.item
    rows = _card(item, "writeback")
    where = f"{item.record_sobject} {item.record_id}"
    if state == "failed":
        text = (
            f"Write-back of {item.id} ({esc(item.title)}) to {where} failed: {esc(body['error'])}"
        )
        key = f"{item.id}:writeback-failed:owner"
        rows.append(_notify(job, job.spec.owner, "writeback_failed", text, key))
    elif state == "conflict":
        fields = ", ".join(r["field"] for r in job.results if r["state"] == "conflict")
        text = (
            f"Not written: {fields} on {where} changed in Salesforce since the agent looked, "
            f"so {item.id} ({esc(item.title)}) did not overwrite it. Both values are on the card "
            "and in the trace."
        )
        # the reviewer who confirmed it; nobody did for an auto-accepted item: its owner
        to = str(item.decided_by) if _has_card(item) else job.spec.owner
        rows.append(_notify(job, to, "writeback_conflict", text, f"{item.id}:writeback-conflict"))
    return rows
