"""Agent intake: authenticate, validate, classify, gate and store one submission atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import keys, lifecycle
from bot.canonical import canonical_hash, canonical_json
from bot.effects import needs_writeback, queue_effects
from bot.errors import AirlockError, Conflict, Forbidden, InvalidInput
from bot.levels import Authority, Status
from bot.policy import OutputNotAllowed, Verdict, decide
from bot.runtime import Runtime
from bot.specs import LoadedSpec
from bot.submission import Submission
from models import AgentKey, Item, Workflow


class MalformedJson(AirlockError):
    """The body is not JSON at all."""

    status, slug, title = 400, "malformed-json", "Malformed JSON"


class NotAllowed(Forbidden):
    """The output is outside the workflow's allowlist or level: refused, nothing stored."""

    slug, title = "output-not-allowed", "Output not allowed by the workflow"


@dataclass(frozen=True)
class IntakeResult:
    """The HTTP answer to a submission; a replay carries the first answer."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def parse_submission(raw: bytes) -> tuple[Submission, dict[str, Any]]:
    """JSON and schema validation; errors list every field to fix."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object with workflow, kind, title, ...")
    try:
        return Submission.model_validate(data), data
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(p) for p in e["loc"]) or "(body)",
                "message": e["msg"].removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(f"fix these fields: {summary}", errors=errors) from None


def submit(rt: Runtime, *, token: str | None, raw: bytes, header_key: str | None) -> IntakeResult:
    """The whole intake in one transaction; bad input raises before anything is written."""
    with rt.db.read() as session:
        key = keys.authenticate(session, token)
    sub, data = parse_submission(raw)
    idem_key = _idempotency_key(sub, data, header_key)
    loaded = rt.spec(sub.workflow)
    _check_scope(key, sub.workflow)
    request_hash = canonical_hash({k: v for k, v in data.items() if k != "idempotency_key"})
    try:
        with rt.db.write() as session:
            replay = _replay(session, key, idem_key, request_hash)
            if replay is not None:
                return replay
            result = _store(session, key, loaded, sub, data, idem_key, request_hash)
    except IntegrityError:
        # A concurrent request with the same key won the insert; answer as its replay.
        with rt.db.read() as session:
            replay = _replay(session, key, idem_key, request_hash)
        if replay is None:
            raise
        return replay
    except OutputNotAllowed as exc:
        _log_refusal(rt, key, sub, exc)
        raise NotAllowed(
            "; ".join(exc.reasons), verdict="blocked", reasons=exc.reasons, workflow=sub.workflow
        ) from None
    rt.kick()
    return result


def _idempotency_key(sub: Submission, data: dict[str, Any], header: str | None) -> str:
    if header is not None and not 1 <= len(header) <= 200:
        raise InvalidInput("the Idempotency-Key header must be 1 to 200 characters")
    if header and sub.idempotency_key and header != sub.idempotency_key:
        raise InvalidInput("Idempotency-Key header and idempotency_key field differ: send one")
    # Without a key, identical bodies are treated as the same submission.
    return header or sub.idempotency_key or f"auto:{canonical_hash(data)}"


def _check_scope(key: AgentKey, workflow_id: str) -> None:
    if not keys.in_scope(key, workflow_id):
        allowed = ", ".join(key.workflows) or "none"
        raise Forbidden(
            f"agent key {key.id} ({key.agent}) may not submit to {workflow_id!r}; "
            f"it is scoped to: {allowed}"
        )


def _replay(
    session: Session, key: AgentKey, idem_key: str, request_hash: str
) -> IntakeResult | None:
    item = session.exec(
        select(Item).where(col(Item.agent_key_id) == key.id, col(Item.idempotency_key) == idem_key)
    ).first()
    if item is None:
        return None
    if item.request_hash != request_hash:
        raise Conflict(
            f"idempotency key {idem_key!r} was used for a different body (item {item.id}); "
            "use a new key for new content",
            item_id=item.id,
        )
    return IntakeResult(201, item.response or {}, replayed=True)


def _store(
    session: Session,
    key: AgentKey,
    loaded: LoadedSpec,
    sub: Submission,
    data: dict[str, Any],
    idem_key: str,
    request_hash: str,
) -> IntakeResult:
    workflow = session.get(Workflow, loaded.id)
    verdict = decide(sub, loaded.spec, paused=bool(workflow and workflow.paused))
    item = _new_item(key, loaded, sub, verdict, idem_key, request_hash, canonical_json(data))
    if needs_writeback(item, loaded.spec, verdict.status):
        item.writeback_state = "queued"
    item.response = response_body(item)
    lifecycle.record_intake(
        session,
        item,
        actor=f"agent:{key.agent}",
        data={
            "raw_hash": item.raw_hash,
            "workflow_version": loaded.version,
            "checks": item.checks,
            "gate_reasons": verdict.gate_reasons,
            "level": item.level,
        },
    )
    queue_effects(session, item, loaded.spec)
    keys.touch(session, key)
    return IntakeResult(201, item.response)


def _new_item(
    key: AgentKey,
    loaded: LoadedSpec,
    sub: Submission,
    verdict: Verdict,
    idem_key: str,
    request_hash: str,
    raw: str,
) -> Item:
    auto = verdict.status is Status.AUTO_ACCEPTED
    return Item(
        id=lifecycle.new_item_id(),
        workflow_id=loaded.id,
        workflow_version=loaded.version,
        agent=key.agent,
        agent_key_id=key.id,
        idempotency_key=idem_key,
        request_hash=request_hash,
        raw=raw,
        raw_hash=canonical_hash(json.loads(raw)),
        kind=sub.kind.value,
        title=sub.title,
        summary=sub.summary,
        reasons=sub.reasons,
        sources=[s.model_dump(mode="json") for s in sub.sources],
        confidence=sub.confidence,
        record_sobject=sub.record.sobject if sub.record else None,
        record_id=sub.record.id if sub.record else None,
        changes=[_change(sub, c) for c in sub.changes],
        task=sub.task.model_dump(mode="json") if sub.task else None,
        message=sub.message.model_dump(mode="json") if sub.message else None,
        level=verdict.level.value,
        gate=verdict.gate.value,
        gate_reasons=verdict.gate_reasons,
        checks=[c.as_dict() for c in verdict.checks],
        assignee=sub.assignee,
        status=verdict.status.value,
        authority=Authority.ADVISORY.value,
        decided_by="policy:auto" if auto else None,
    )


def _change(sub: Submission, change: Any) -> dict[str, Any]:
    sobject = sub.record.sobject if sub.record else ""
    return {
        "field": change.field.split(".")[-1],
        "sobject": sobject,
        "value": change.value,
        "observed": change.observed,
        "observed_given": change.observed_given,
    }


def response_body(item: Item) -> dict[str, Any]:
    """The 201 answer (also replayed verbatim for a repeated idempotency key)."""
    return {
        "id": item.id,
        "workflow": item.workflow_id,
        "workflow_version": item.workflow_version,
        "status": item.status,
        "gate": item.gate,
        "level": item.level,
        "checks": item.checks,
        "authority": item.authority,
        "writeback_state": item.writeback_state,
        "gate_reasons": item.gate_reasons,
        "links": {"self": f"/api/v1/items/{item.id}"},
    }


def _log_refusal(rt: Runtime, key: AgentKey, sub: Submission, exc: OutputNotAllowed) -> None:
    """Refusals store no item but leave a mark on the workflow's own audit chain."""
    rt.metrics.refused.labels("output_not_allowed").inc()
    with rt.db.write() as session:
        lifecycle.append_workflow_event(
            session,
            sub.workflow,
            "refused",
            f"agent:{key.agent}",
            {
                "kind": sub.kind.value,
                "title": sub.title,
                "reasons": exc.reasons,
            },
        )
