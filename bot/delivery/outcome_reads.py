"""Outcome reads: each measured item's record, read at arrival (baseline, segment) and at the
end of its window, in batched SOQL (one query per sObject and 200 records).

Every replica sweeps; due items are claimed in the database (outcome_due_at pushed past a lease),
so a read happens once however many replicas run, and a failed read is retried after the lease.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel

from bot.base.db import Database
from bot.base.spec_model import WorkflowSpec
from bot.core import holdout, lifecycle
from bot.core.outcome_values import outcome_of
from bot.core.runtime import Runtime
from bot.delivery.claims import claim_items
from bot.salesforce.errors import SalesforceError

log = logging.getLogger(__name__)
_ITEMS: Table = SQLModel.metadata.tables["item"]
CLAIM_LEASE = timedelta(minutes=5)
BATCH = 200  # record ids per query: well within SOQL's 100,000-character statement limit
_COLUMNS = ("id", "workflow_id", "status", "record_sobject", "record_id", "segment", "outcome")


class FieldReader(Protocol):
    """What the sweep reads with: SalesforceClient.read_fields."""

    def read_fields(
        self, sobject: str, ids: Iterable[str], fields: Iterable[str]
    ) -> dict[str, dict[str, Any]]: ...


@dataclass
class OutcomeReport:
    """What one sweep did, for logs and tests."""

    baselines: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    queries: int = 0


@dataclass(frozen=True)
class _Batch:
    workflow_id: str
    sobject: str
    final: bool  # the end-of-window read (else the arrival read)
    items: list[dict[str, Any]]


def claim_due(db: Database, now: datetime, limit: int = 1000) -> list[str]:
    """Atomically take the items whose outcome read is due."""
    due = _ITEMS.c.outcome_due_at <= now
    return claim_items(db, "outcome_due_at", due, now + CLAIM_LEASE, limit)


def sweep(rt: Runtime, reader: FieldReader, now: datetime | None = None) -> OutcomeReport:
    """Read every due item's record and record what was read."""
    now = now or rt.clock()
    report = OutcomeReport()
    ids = claim_due(rt.db, now)
    if not ids:
        return report
    with rt.db.read() as session:
        rows = [dict(r._mapping) for r in session.execute(_select(ids))]
    for batch in _batches(rt, rows):
        try:
            _read(rt, reader, batch, now, report)
        except SalesforceError:
            log.exception(
                "outcome read failed for %d items; retried after the claim lease", len(batch.items)
            )
    return report


def _select(ids: list[str]) -> Any:
    columns = [_ITEMS.c[name] for name in (*_COLUMNS, "created_at")]
    return sa_select(*columns).where(_ITEMS.c.id.in_(ids))


def _batches(rt: Runtime, rows: list[dict[str, Any]]) -> list[_Batch]:
    groups: dict[tuple[str, str, bool], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if rt.specs.get(row["workflow_id"]) is None:
            continue  # its spec was removed: the claim lease brings it back if it returns
        final = row["outcome"] is not None or not holdout.baseline_fields(
            rt.spec(row["workflow_id"]).spec, row["record_sobject"], row["segment"]
        )
        groups[(row["workflow_id"], row["record_sobject"], final)].append(row)
    return [
        _Batch(workflow, sobject, final, items[start : start + BATCH])
        for (workflow, sobject, final), items in groups.items()
        for start in range(0, len(items), BATCH)
    ]


def _read(
    rt: Runtime, reader: FieldReader, batch: _Batch, now: datetime, report: OutcomeReport
) -> None:
    spec = rt.spec(batch.workflow_id).spec
    if batch.final:
        names = [m.name_in_sobject for m in holdout.metrics_for(spec, batch.sobject)]
    else:
        names = holdout.baseline_fields(spec, batch.sobject, None)
    found = reader.read_fields(batch.sobject, [i["record_id"] for i in batch.items], names)
    report.queries += 1
    with rt.db.write() as session:
        for item in batch.items:
            values = found.get(item["record_id"])
            if batch.final:
                _record_outcome(session, spec, item, values)
                report.outcomes.append(item["id"])
            else:
                _record_baseline(session, spec, item, values, now)
                report.baselines.append(item["id"])


def _record_baseline(
    session: Session,
    spec: WorkflowSpec,
    item: Mapping[str, Any],
    values: Mapping[str, Any] | None,
    now: datetime,
) -> None:
    sobject = item["record_sobject"]
    segment = item["segment"]
    if segment is None and spec.segment_by and values is not None:
        read = values.get(holdout.segment_path(spec.segment_by, sobject))
        segment = None if read is None else str(read)[:100]
    baseline = {k: v for k, v in (values or {}).items() if k != "Id" and "." not in k}
    window = spec.outcome.window
    measured = bool(holdout.metrics_for(spec, sobject)) and window is not None
    due = item["created_at"] + window if measured and window is not None else None
    lifecycle.update_item(
        session,
        item["id"],
        actor="system",
        event="outcome_baseline",
        data={"baseline": baseline, "segment": segment, "found": values is not None},
        outcome={"baseline": baseline},
        segment=segment,
        outcome_due_at=max(due, now) if due else None,
    )


def _record_outcome(
    session: Session,
    spec: WorkflowSpec,
    item: Mapping[str, Any],
    values: Mapping[str, Any] | None,
) -> None:
    metrics = holdout.metrics_for(spec, item["record_sobject"])
    baseline = (item["outcome"] or {}).get("baseline", {})
    result = outcome_of(metrics, values, baseline)
    read = {m.name_in_sobject: (values or {}).get(m.name_in_sobject) for m in metrics}
    outcome = {
        "arm": holdout.arm(item["status"]),
        "baseline": baseline,
        "values": read,
        "metrics": result,
        "found": values is not None,
    }
    lifecycle.update_item(
        session,
        item["id"],
        actor="system",
        event="outcome",
        data={k: outcome[k] for k in ("arm", "metrics", "values", "found")},
        outcome=outcome,
        outcome_due_at=None,
    )
