"""A classified submission as the row intake inserts: values, first events, effects' facts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.base.canonical import canonical_json, sha256_hex
from bot.base.levels import Authority, Status
from bot.base.spec_model import WorkflowSpec
from bot.base.specs import LoadedSpec
from bot.base.submission import Submission
from bot.core import holdout, lifecycle
from bot.core.checks import CheckResult, run_checks
from bot.core.effects import needs_writeback
from bot.core.keys import Agent
from bot.core.policy import Verdict, decide
from bot.salesforce.ids import to_18


@dataclass
class Facts:
    """The new item as effects see it, before it exists as a row."""

    id: str
    workflow_id: str
    status: str
    changes: list[dict[str, Any]]
    task: dict[str, Any] | None
    record_id: str | None


@dataclass
class NewItem:
    """A classified submission, ready to insert."""

    values: dict[str, Any]
    facts: Facts
    received: dict[str, Any]


@dataclass(frozen=True)
class Vetted:
    """What intake works out before its transaction (no database, no lock): the submission
    naming its record by the 18-character id, and its quality checks. The checks read only the
    spec's `checks`, which no promotion or demotion changes (they replace the mode)."""

    sub: Submission
    checks: list[CheckResult]
    loaded: LoadedSpec  # the spec they ran under


def vet(sub: Submission, loaded: LoadedSpec) -> Vetted:
    """The submission in canonical form and its quality checks under the loaded spec."""
    sub = _canonical_record(sub)
    return Vetted(sub, run_checks(sub, loaded.spec.checks), loaded)


def prepare(
    key: Agent,
    loaded: LoadedSpec,
    spec: WorkflowSpec,
    vetted: Vetted,
    data: dict[str, Any],
    idem_key: str,
    request_hash: str,
    paused: bool,
    now: datetime,
) -> NewItem:
    """Decide level and gate, and build the row and its first events' data."""
    sub = vetted.sub
    verdict = decide(sub, spec, paused=paused, checks=vetted.checks)
    record = sub.record
    sobject, record_id = (record.sobject, record.id) if record else (None, None)
    verdict = replace(verdict, status=holdout.route(spec, sobject, record_id, verdict.status))
    values = item_values(
        key, loaded, sub, verdict, idem_key, request_hash, canonical_json(data), now
    )
    values["outcome_due_at"] = holdout.first_due(spec, values, now)
    facts = Facts(
        values["id"],
        loaded.id,
        values["status"],
        values["changes"],
        values["task"],
        values["record_id"],
    )
    if needs_writeback(facts, spec, verdict.status):
        values["writeback_state"] = "queued"
    values["response"] = response_body(values)
    received = {
        "raw_hash": values["raw_hash"],
        "workflow_version": loaded.version,
        "checks": values["checks"],
        "gate_reasons": verdict.gate_reasons,
        "level": values["level"],
    }
    return NewItem(values, facts, received)


def _canonical_record(sub: Submission) -> Submission:
    """The submission naming its record by the 18-character id (`raw` keeps what was sent).

    A 15-character id and an 18-character one in any case name one record: stored, routed to
    an arm and matched by scoped pauses in one form, each item of a record is treated alike.
    The intake schema has already refused anything that is not a 15- or 18-character id.
    """
    if sub.record is None:
        return sub
    record = sub.record.model_copy(update={"id": to_18(sub.record.id)})
    return sub.model_copy(update={"record": record})


def item_values(
    key: Agent,
    loaded: LoadedSpec,
    sub: Submission,
    verdict: Verdict,
    idem_key: str,
    request_hash: str,
    raw: str,
    now: datetime,
) -> dict[str, Any]:
    """Every column of the new item row."""
    return {
        "id": lifecycle.new_item_id(),
        "workflow_id": loaded.id,
        "workflow_version": loaded.version,
        "agent": key.name,
        "agent_key_id": key.key_id,
        "idempotency_key": idem_key,
        "request_hash": request_hash,
        "raw": raw,
        "raw_hash": sha256_hex(raw),
        **_proposal_columns(sub),
        **_verdict_columns(verdict, now),
        **_unstarted_columns(),
        "created_at": now,
        "updated_at": now,
    }


def _proposal_columns(sub: Submission) -> dict[str, Any]:
    """What the agent proposes, as stored: text, record, changes, task and message."""
    return {
        "kind": sub.kind.value,
        "title": sub.title,
        "summary": sub.summary,
        "reasons": sub.reasons,
        "sources": [s.model_dump(mode="json") for s in sub.sources],
        "confidence": sub.confidence,
        "record_sobject": sub.record.sobject if sub.record else None,
        "record_id": sub.record.id if sub.record else None,
        "changes": [_change(sub, c) for c in sub.changes],
        "task": sub.task.model_dump(mode="json") if sub.task else None,
        "message": sub.message.model_dump(mode="json") if sub.message else None,
        "segment": sub.segment,
    }


def _verdict_columns(verdict: Verdict, now: datetime) -> dict[str, Any]:
    """What the policy decided at intake: level, gate, checks, and the status it starts in."""
    auto = verdict.status is Status.AUTO_ACCEPTED
    return {
        "level": verdict.level.value,
        "gate": verdict.gate.value,
        "gate_reasons": verdict.gate_reasons,
        "checks": [c.as_dict() for c in verdict.checks],
        "status": verdict.status.value,
        "authority": Authority.ADVISORY.value,
        "decided_by": "policy:auto" if auto else None,
        "decided_at": now if auto else None,
    }


def _unstarted_columns() -> dict[str, Any]:
    """Review, write-back and card columns, empty until the item moves on."""
    return {
        # The agent's choice is only a request (kept in `raw`): the directory resolves who decides.
        "assignee": None,
        "manager": None,
        "escalated": False,
        "decision": None,
        "writeback_state": "none",
        "writeback": None,
        # Timers start when the card is delivered (bot/slack/delivery.py), not at intake.
        "pending_since": None,
        "next_due_at": None,
        "card_channel": None,
        "card_ts": None,
        "bundle_id": None,
        "manager_card_channel": None,
        "manager_card_ts": None,
        "reminded_at": None,
        "escalated_at": None,
        "outcome_due_at": None,
        "outcome": None,
    }


def _change(sub: Submission, change: Any) -> dict[str, Any]:
    sobject = sub.record.sobject if sub.record else ""
    return {
        "field": change.field.split(".")[-1],
        "sobject": sobject,
        "value": change.value,
        "observed": change.observed,
        "observed_given": change.observed_given,
    }


def response_body(item: dict[str, Any]) -> dict[str, Any]:
    """The 201 answer (also replayed verbatim for a repeated idempotency key)."""
    keep = (
        "id",
        "workflow_id",
        "workflow_version",
        "status",
        "gate",
        "level",
        "checks",
        "authority",
        "writeback_state",
        "gate_reasons",
    )
    body = {k: item[k] for k in keep}
    body["workflow"] = body.pop("workflow_id")
    return body | {"links": {"self": f"/api/v1/items/{item['id']}"}}
