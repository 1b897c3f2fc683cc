"""Agent intake: authenticate, validate, classify, gate and store one submission atomically."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from bot.base import http_input, tracing
from bot.base.canonical import canonical_hash
from bot.base.db import Executor
from bot.base.errors import AirlockError, Conflict, Forbidden, InvalidInput
from bot.base.specs import LoadedSpec
from bot.base.submission import Submission
from bot.core import keys, lifecycle, refusals
from bot.core.autonomy import effective_spec, governing_override
from bot.core.effects import queue_effects
from bot.core.field_values import check_submission
from bot.core.intake_item import NewItem, Vetted, prepare, vet
from bot.core.keys import Agent
from bot.core.policy import OutputNotAllowed, enforce_allowlist, item_level
from bot.core.runtime import Runtime
from bot.core.scopes import holding
from models.types import utcnow


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
        data = http_input.loads(raw)
    except http_input.JsonRefused as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object with workflow, kind, title, ...")
    http_input.refuse_unstorable(data)
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


def submit(
    rt: Runtime,
    *,
    token: str | None,
    raw: bytes,
    header_key: str | None,
    traceparent: str | None = None,
) -> IntakeResult:
    """The intake, in a span under the agent's `traceparent` when tracing is on."""
    keys.check_shape(token)
    parent = tracing.valid_traceparent(traceparent)
    with tracing.span("airlock.intake", parent, {}) as current:
        result = _submit(rt, token, raw, header_key, parent)
        if current is not None:
            body = result.body
            current.set_attributes(
                {
                    "airlock.item_id": body["id"],
                    "airlock.workflow": body["workflow"],
                    "airlock.status": body["status"],
                    "airlock.gate": body["gate"],
                    "airlock.replayed": result.replayed,
                }
            )
    return result


def _submit(
    rt: Runtime, token: str | None, raw: bytes, header_key: str | None, traceparent: str | None
) -> IntakeResult:
    """The whole intake in one transaction; bad input raises before anything is written."""
    sub, data = parse_submission(raw)
    idem_key = _idempotency_key(sub, data, header_key)
    request_hash = canonical_hash({k: v for k, v in data.items() if k != "idempotency_key"})
    key: Agent | None = None
    try:
        key, replay, record_note = _check_record(rt, token, sub, idem_key, request_hash)
        if replay is not None:
            return replay
        early = _vet_early(rt, sub)
        # One transaction: authenticate (401), scope (403), workflow (404: it lists the loaded
        # workflows, which only a caller allowed to submit there may learn), store or roll back.
        with rt.db.write_core() as conn:
            key = keys.authenticate(conn, token)
            _check_scope(key, sub.workflow)
            loaded = rt.spec(sub.workflow)
            check_submission(sub, loaded.spec, rt.fields)  # cached describe only, no call out
            # No look-up for a replay here: the unique (key, idempotency key) index refuses a
            # second insert, and the IntegrityError path below answers with the first item.
            paused, override = _state(conn, loaded.id, loaded.version, rt.db.is_sqlite)
            scope = holding(conn, key.name, sub.record.id if sub.record else None)
            spec, held = effective_spec(loaded.spec, override), paused or scope is not None
            vetted = early if early is not None and early.loaded is loaded else vet(sub, loaded)
            new = prepare(key, loaded, spec, vetted, data, idem_key, request_hash, held, rt.clock())
            if scope is not None and not paused and new.values["status"] == "held":
                new.received["held_by"] = scope.label  # the trail names the scoped stop button
            if record_note is not None:
                new.received["record_check"] = record_note  # accepted without knowing
            _store(conn, key, loaded, new, traceparent)
    except IntegrityError as error:
        # The same idempotency key was stored before (or a moment ago): answer as a replay.
        return _replay_or_raise(rt, key, idem_key, request_hash, error)
    except OutputNotAllowed as exc:
        assert key is not None  # policy runs only after authentication
        raise _refused(rt, key, sub, exc) from None
    rt.kick()
    return IntakeResult(201, new.values["response"])


def _vet_early(rt: Runtime, sub: Submission) -> Vetted | None:
    """The checks, run before the write transaction whose lock every writer waits for (they
    need no database); None for an unknown workflow, refused in the transaction after
    authentication. The transaction runs them again if the specs were reloaded meanwhile."""
    known = rt.specs.get(sub.workflow)
    try:
        return vet(sub, known) if known is not None else None
    except ValueError:  # whatever it is, it is answered in order, after authentication
        return None


def _replay_or_raise(
    rt: Runtime, key: Agent | None, idem_key: str, request_hash: str, error: IntegrityError
) -> IntakeResult:
    """The first answer under this idempotency key; the conflict itself when there is none."""
    if key is not None:
        with rt.db.read() as session:
            replay = _replay(session, key, idem_key, request_hash)
        if replay is not None:
            return replay
    raise error


def _check_record(
    rt: Runtime, token: str | None, sub: Submission, idem_key: str, request_hash: str
) -> tuple[Agent | None, IntakeResult | None, str | None]:
    """Key, first answer of a replay, and a note if the record could not be checked.

    Raises RecordNotFound (422) for a record Salesforce does not have. Salesforce is asked
    outside any transaction, and only for an authenticated caller whose submission passed
    every other check, so a refusal never costs a call; a replay answers as first answered.
    """
    if sub.record is None or not rt.records.needs_check(sub.record.sobject, sub.record.id):
        return None, None, None
    with rt.db.read() as session:
        key = keys.authenticate(session, token)
        _check_scope(key, sub.workflow)
        loaded = rt.spec(sub.workflow)
        replay = _replay(session, key, idem_key, request_hash)
    if replay is not None:
        return key, replay, None
    check_submission(sub, loaded.spec, rt.fields)
    try:
        enforce_allowlist(sub, loaded.spec, item_level(sub))
    except OutputNotAllowed as exc:
        raise _refused(rt, key, sub, exc) from None
    return key, None, rt.records.require(sub.record.sobject, sub.record.id)


def _idempotency_key(sub: Submission, data: dict[str, Any], header: str | None) -> str:
    if header is not None and not 1 <= len(header) <= 200:
        raise InvalidInput("the Idempotency-Key header must be 1 to 200 characters")
    if header and sub.idempotency_key and header != sub.idempotency_key:
        raise InvalidInput("Idempotency-Key header and idempotency_key field differ: send one")
    # Without a key, identical bodies are treated as the same submission.
    return header or sub.idempotency_key or f"auto:{canonical_hash(data)}"


def _check_scope(key: Agent, workflow_id: str) -> None:
    if not keys.in_scope(key, workflow_id):
        allowed = ", ".join(key.workflows) or "none"
        raise Forbidden(
            f"agent key {key.key_id} ({key.name}) may not submit to {workflow_id!r}; "
            f"it is scoped to: {allowed}"
        )


_ITEMS: Table = SQLModel.metadata.tables["item"]
_REPLAY = select(_ITEMS.c.id, _ITEMS.c.request_hash, _ITEMS.c.response).where(
    _ITEMS.c.agent_key_id == bindparam("key_id"), _ITEMS.c.idempotency_key == bindparam("idem")
)
_WORKFLOWS: Table = SQLModel.metadata.tables["workflow"]
_STATE = select(_WORKFLOWS.c.paused, _WORKFLOWS.c.mode_override, _WORKFLOWS.c.version).where(
    _WORKFLOWS.c.id == bindparam("workflow_id")
)
# PostgreSQL: the pause flag is read under a share lock held to commit, so a resume (or pause)
# waits for in-flight intakes and no item is stored `held` after its workflow resumed.
_STATE_LOCKED = _STATE.with_for_update(read=True)


def _replay(session: Executor, key: Agent, idem_key: str, request_hash: str) -> IntakeResult | None:
    found = session.execute(_REPLAY, {"key_id": key.key_id, "idem": idem_key}).first()
    if found is None:
        return None
    item_id, stored_hash, response = found
    if stored_hash != request_hash:
        raise Conflict(
            f"idempotency key {idem_key!r} was used for a different body (item {item_id}); "
            "use a new key for new content",
            item_id=item_id,
        )
    return IntakeResult(201, response or {}, replayed=True)


def _state(
    session: Executor, workflow_id: str, version: str, sqlite: bool
) -> tuple[bool, str | None]:
    # SQLite needs no lock: its write transactions are serialised (BEGIN IMMEDIATE).
    query = _STATE if sqlite else _STATE_LOCKED
    row = session.execute(query, {"workflow_id": workflow_id}).first()
    if row is None:
        return False, None
    return bool(row.paused), governing_override(row.mode_override, row.version, version)


def _store(
    session: Executor, key: Agent, loaded: LoadedSpec, new: NewItem, traceparent: str | None
) -> None:
    new.values["traceparent"] = traceparent  # the agent's trace, for the decision and write spans
    lifecycle.record_intake(
        session,
        new.values,
        [
            ("received", f"agent:{key.name}", new.received),
            (new.values["status"], "system", {"gate": new.values["gate"]}),
        ],
    )
    queue_effects(session, new.facts, loaded.spec)
    keys.touch(session, key)


def _refused(rt: Runtime, key: Agent, sub: Submission, exc: OutputNotAllowed) -> NotAllowed:
    """The 403 for an output outside the workflow, its refusal logged."""
    _log_refusal(rt, key, sub, exc)
    return NotAllowed(
        "; ".join(exc.reasons), verdict="blocked", reasons=exc.reasons, workflow=sub.workflow
    )


def _log_refusal(rt: Runtime, key: Agent, sub: Submission, exc: OutputNotAllowed) -> None:
    """Refusals store no item but leave a mark on the workflow's own audit chain."""
    rt.metrics.refused.labels("output_not_allowed").inc()
    with rt.db.write() as session:
        stream, actor = lifecycle.workflow_stream(sub.workflow), f"agent:{key.name}"
        if not refusals.worth_logging(session, stream, "refused", actor, utcnow()):
            return
        lifecycle.append_workflow_event(
            session,
            sub.workflow,
            "refused",
            actor,
            {
                "kind": sub.kind.value,
                "title": sub.title,
                "reasons": exc.reasons,
            },
        )
