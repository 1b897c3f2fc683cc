"""Write-back: confirmed items reach Salesforce allowlisted, batched, conflict-checked, once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from sqlmodel import col, select

from bot.base import tracing
from bot.base.submission import qualify
from bot.core.decisions import effective_changes
from bot.core.field_values import same_at_scale
from bot.core.outbox import Outcome, Route
from bot.core.runtime import Runtime
from bot.core.spans import trace_writes
from bot.delivery.writeback_guard import edited_after_decision
from bot.delivery.writeback_isolate import read_current, write_records
from bot.delivery.writeback_order import RecordOrder, explain_implicit
from bot.delivery.writeback_outcome import WriteJob, settle_all
from bot.delivery.writeback_tasks import create_once, record_intent
from bot.salesforce.client import COMPOSITE_LIMIT, SalesforceClient, SalesforceError
from bot.salesforce.fields import FieldCatalog
from bot.salesforce.ids import id_key
from bot.salesforce.usage import RECHECK_SECONDS, UsageGate
from bot.salesforce.values import same
from models import Item, Outbox, Workflow

log = logging.getLogger(__name__)

FINAL = frozenset({"written", "conflict", "failed", "reverted"})
PAUSED_DELAY = 5.0
# Batches in flight through a backlog: each one's round trips overlap the others' database work.
# Five carry 1,000 approved updates at once: at 50 ms a round trip, two lanes took 1.63-1.70x the
# network floor and five 1.26-1.29x (bench/writeback.py). Salesforce limits concurrent requests
# only for long ones (20 s and more, 25 per org); these are short. Parallel PATCHes can lock the
# same parent account: UNABLE_TO_LOCK_ROW is retried as a lock (bot/salesforce/errors.py).
# On PostgreSQL a lane holds up to two pooled connections while it sends (pool: 10 + 20).
WRITE_LANES = 5
T = TypeVar("T")


def writeback_route(
    rt: Runtime, client: SalesforceClient, usage_recheck: float = RECHECK_SECONDS
) -> Route:
    """Outbox route delivering `salesforce.write` rows, up to 200 items per call; the rows wait
    while the org's API usage is over SALESFORCE_API_USAGE_CEILING."""

    def deliver(rows: Sequence[Outbox]) -> dict[int, Outcome]:
        return _Delivery(rt, client).run(rows)

    ceiling = rt.settings.salesforce_api_usage_ceiling
    gate = UsageGate(client, ceiling, usage_recheck)
    return Route(deliver, batch_size=COMPOSITE_LIMIT, ready=gate, lanes=WRITE_LANES)


def _result(job: WriteJob) -> str:
    """How an item's write ended in this batch, for its span."""
    if job.error:
        return "failed"
    return "retry" if job.retry else "written"


class _Delivery:
    """One handler call: a batch of salesforce.write rows."""

    def __init__(self, rt: Runtime, client: SalesforceClient) -> None:
        self.rt, self.client = rt, client
        # After a limit or auth error every further call would fail the same way: stop calling.
        self.blocked: SalesforceError | None = None

    def run(self, rows: Sequence[Outbox]) -> dict[int, Outcome]:
        """The batch, in a span of its own; each item's write also joins the item's trace."""
        started = self.rt.clock()
        with tracing.span("airlock.writeback.batch", None, {"airlock.rows": len(rows)}) as batch:
            jobs, outcomes = self._run(rows)
            if batch is not None:
                trace_writes([(j.item, _result(j)) for j in jobs], started, batch)
        return outcomes

    def _run(self, rows: Sequence[Outbox]) -> tuple[list[WriteJob], dict[int, Outcome]]:
        jobs, outcomes = self._load(rows)
        by_sobject: dict[str, list[WriteJob]] = {}
        for job in jobs:
            if not job.settled and _plan(job):
                by_sobject.setdefault(job.item.record_sobject or "", []).append(job)
        with self.rt.db.read() as session:
            order = RecordOrder.load(session, jobs)
        for sobject, group in by_sobject.items():
            for wave in _waves(group):
                ready = order.admit(wave)
                self._write_fields(sobject, ready)
                order.record(ready)
        for job in jobs:
            if job.item.task and not job.settled:
                self._create_task(job)
        if jobs:
            with self.rt.db.write() as session:
                outcomes |= settle_all(session, jobs, self.rt.settings.admins)
            self.rt.kick()  # cards and notices were queued
        return jobs, outcomes

    def _load(self, rows: Sequence[Outbox]) -> tuple[list[WriteJob], dict[int, Outcome]]:
        ids = [row.item_id for row in rows if row.item_id]
        with self.rt.db.read() as session:
            items = {i.id: i for i in session.exec(select(Item).where(col(Item.id).in_(ids)))}
            paused = set(session.exec(select(Workflow.id).where(col(Workflow.paused).is_(True))))
            pending = [i for i in items.values() if i.writeback_state not in FINAL]
            edited = edited_after_decision(session, pending)
        jobs, outcomes = [], {}
        for row in rows:
            item = items.get(row.item_id or "")
            if item is None:
                outcomes[row.id or 0] = Outcome.dead(f"item {row.item_id} does not exist")
            elif item.writeback_state in FINAL:
                # a re-delivery after the result was recorded: nothing left to do
                outcomes[row.id or 0] = Outcome.done(f"already {item.writeback_state}")
            elif item.workflow_id in paused:
                # paused after the claim: the outbox hands it out again only after resume
                outcomes[row.id or 0] = Outcome.retry("workflow paused", PAUSED_DELAY)
            else:
                jobs.append(WriteJob(row, item, self.rt.spec(item.workflow_id).spec))
                if item.id in edited:
                    jobs[-1].fail(edited[item.id])
        jobs.sort(key=lambda job: job.row.id or 0)  # confirmed first, written first
        return jobs, outcomes

    def _write_fields(self, sobject: str, wave: list[WriteJob]) -> None:
        """ONE SOQL read of the current values, the conflict check, ONE collections PATCH (more
        calls only around a field or value Salesforce refuses for the whole request)."""
        found = read_current(self._call, self.client, sobject, wave)
        ready = [
            job
            for job in wave
            if not job.settled
            and _check(job, found.get(id_key(job.item.record_id)), self.rt.fields)
        ]
        for job in wave:
            explain_implicit(job)
        # a record refused for an unknown field means the org changed: describe it again
        write_records(self._call, self.client, sobject, ready, self.rt.fields.invalidate)

    def _create_task(self, job: WriteJob) -> None:
        job.item, earlier = record_intent(self.rt.db, job.item)
        try:
            job.task_id = self._call(
                partial(create_once, look_first=earlier), self.client, job.item, job.spec
            )
        except SalesforceError as error:
            job.setback(error)

    def _call(self, operation: Callable[..., T], *args: Any) -> T:
        if self.blocked is not None:
            raise self.blocked
        try:
            return operation(*args)
        except SalesforceError as error:
            if error.kind in ("limit", "auth"):
                self.blocked = error
            if error.error_code == "INVALID_FIELD":
                self.rt.fields.invalidate()  # the org changed: describe again at the next tick
            raise


def _plan(job: WriteJob) -> bool:
    """Refuse fields outside the allowlist (never sent); returns whether any are left."""
    allowed = set(job.spec.allowed_outputs.fields)
    for change in effective_changes(job.item):
        name = qualify(change.get("sobject") or job.item.record_sobject or "", change["field"])
        entry = {"field": change["field"], "state": "written", "value": change["value"]}
        entry |= {"observed": change.get("observed"), "current": None, "message": None}
        if name not in allowed or name.split(".")[0] != job.item.record_sobject:
            message = f"{name} is not in the allowlist of {job.spec.id}; it was never sent"
            entry |= {"state": "refused", "message": message}
            log.warning("item %s: refused to write %s (not allowlisted)", job.item.id, name)
        else:
            job.send[change["field"]] = change
        job.results.append(entry)
    return bool(job.send)


def _waves(jobs: list[WriteJob]) -> list[list[WriteJob]]:
    """Split so no record appears twice in one PATCH and no PATCH exceeds 200 records."""
    waves: list[tuple[set[str], list[WriteJob]]] = []
    for job in jobs:
        key = id_key(job.item.record_id)  # 15 and 18 characters, any case: the same record
        wave = next((w for w in waves if key not in w[0] and len(w[1]) < COMPOSITE_LIMIT), None)
        if wave is None:
            wave = (set(), [])
            waves.append(wave)
        wave[0].add(key)
        wave[1].append(job)
    return [members for _keys, members in waves]


def _check(job: WriteJob, current: dict[str, Any] | None, fields: FieldCatalog) -> bool:
    """Compare with what the agent saw; returns whether the record still needs a PATCH.

    Numbers are compared at the field's scale when describe() told it (Salesforce may have
    stored Airlock's own earlier write rounded)."""
    if current is None:
        job.fail(f"{job.item.record_sobject} {job.item.record_id} was not found in Salesforce")
        return False
    for result in job.results:
        change = job.send.get(result["field"])
        if change is None:
            continue
        now = result["current"] = current.get(result["field"])
        meta = fields.field(job.item.record_sobject or "", result["field"])
        if same(now, change["value"]) or same_at_scale(meta, now, change["value"]):
            # Already there (e.g. written just before a crash): a second PATCH changes nothing.
            result["message"] = "already had this value"
            del job.send[result["field"]]
        elif change.get("observed_given") and not (
            same(now, change.get("observed")) or same_at_scale(meta, now, change.get("observed"))
        ):
            # Field by field: the other approved fields are still written; the card shows both.
            message = "changed in Salesforce since the agent saw it; not overwritten"
            result |= {"state": "conflict", "message": message}
            del job.send[result["field"]]
    return bool(job.send)
