"""Per-record order of write-backs: approvals reach a field in the order they were confirmed.

A later write of a record's field is not sent while an earlier one (a lower outbox id: queued at
an earlier decision) is still pending or retrying, and the value Airlock last wrote to a field
counts as the implicit `observed` of a change that gave none. So an older approval retried after
a lock error (or requeued by hand) never overwrites a newer approved value, and a person's edit
made in Salesforce after Airlock's write is reported as a conflict, not silently overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.decisions import effective_changes
from bot.core.effects import WRITEBACK
from bot.delivery.writeback_outcome import WriteJob
from bot.salesforce.ids import id_key
from models import Item, Outbox
from models.types import utcnow

MIN_WAIT = 2.0  # seconds: a predecessor being delivered right now is given time to finish
MAX_WAIT = 900.0


def record_key(item: Item) -> str:
    """15 and 18 characters, any case: the same record."""
    return id_key(item.record_id)


@dataclass(frozen=True)
class _Earlier:
    """Another item's write of the same record."""

    row_id: int
    item_id: str
    fields: frozenset[str]
    wakes_at: datetime  # when its row is next delivered (or its lease ends)


@dataclass
class RecordOrder:
    """What other write-backs of this delivery's records did and still have to do."""

    jobs: Sequence[WriteJob]
    pending: dict[str, list[_Earlier]] = field(default_factory=dict)
    # (record, field) -> [(outbox id, item id, value Airlock wrote)]
    written: dict[tuple[str, str], list[tuple[int, str, Any]]] = field(default_factory=dict)
    # record -> this delivery's jobs on it, so each job's check looks at its record's jobs only
    by_record: dict[str, list[WriteJob]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for job in self.jobs:
            self.by_record.setdefault(record_key(job.item), []).append(job)

    @classmethod
    def load(cls, session: Session, jobs: Sequence[WriteJob]) -> RecordOrder:
        """Other write-backs of the same records: still pending, or settled with fields written."""
        order = cls(jobs)
        keys = {record_key(job.item) for job in jobs if job.item.record_id}
        here = {job.row.id for job in jobs}
        if not keys:
            return order
        prefix = func.lower(func.substr(Item.record_id, 1, 15))  # narrows; id_key decides
        query = (
            select(Outbox, Item)
            .join(Item, col(Item.id) == col(Outbox.item_id))
            .where(
                col(Outbox.kind) == WRITEBACK,
                prefix.in_({key[:15].lower() for key in keys}),
                col(Outbox.id).not_in(here),  # this delivery's own rows are in `jobs` already
            )
        )
        for row, item in session.exec(query):
            if row.id in here or record_key(item) not in keys:
                continue
            if row.status == "pending":
                names = frozenset(c["field"] for c in effective_changes(item))
                wakes = max(row.due_at, row.lease_until or row.due_at)
                earlier = _Earlier(row.id or 0, item.id, names, wakes)
                order.pending.setdefault(record_key(item), []).append(earlier)
            for result in (item.writeback or {}).get("results", []):
                if result.get("state") == "written":
                    order._wrote(record_key(item), row.id or 0, item.id, result)
        return order

    def admit(self, wave: list[WriteJob]) -> list[WriteJob]:
        """The jobs of the wave that may be sent now; the others are held with the reason."""
        ready = []
        for job in wave:
            reason, delay = self._blocker(job)
            if reason is not None:
                job.hold(reason, delay)
                continue
            self._implicit_observed(job)
            if job.send:
                ready.append(job)
        return ready

    def record(self, wave: list[WriteJob]) -> None:
        """Remember what the wave wrote: the implicit `observed` of later jobs in this delivery."""
        for job in wave:
            if job.settled:
                continue
            for result in job.results:
                if result["state"] == "written":
                    self._wrote(record_key(job.item), job.row.id or 0, job.item.id, result)

    def _wrote(self, key: str, row_id: int, item_id: str, result: dict[str, Any]) -> None:
        entry = (row_id, item_id, result.get("value"))
        self.written.setdefault((key, result["field"]), []).append(entry)

    def _blocker(self, job: WriteJob) -> tuple[str | None, float | None]:
        key, mine = record_key(job.item), set(job.send)
        row_id = job.row.id or 0
        for other in self.by_record.get(key, []):
            if (other.row.id or 0) >= row_id:
                continue
            if other.retry is not None and mine & {r["field"] for r in other.results}:
                return _waiting(other.item.id, mine), None
        for earlier in self.pending.get(key, []):
            if earlier.row_id < row_id and mine & earlier.fields:
                seconds = (earlier.wakes_at - utcnow()).total_seconds() + 1
                return _waiting(earlier.item_id, mine), min(max(seconds, MIN_WAIT), MAX_WAIT)
        return None, None

    def _implicit_observed(self, job: WriteJob) -> None:
        key, row_id = record_key(job.item), job.row.id or 0
        for result in job.results:
            change = job.send.get(result["field"])
            writes = self.written.get((key, result["field"]), [])
            if change is None or change.get("observed_given") or not writes:
                continue
            newer = [w for w in writes if w[0] > row_id]
            if newer:
                message = (
                    f"a later approval ({newer[-1][1]}) already wrote this field; this older "
                    "value was not written over it"
                )
                result |= {"state": "conflict", "message": message}
                del job.send[result["field"]]
                continue
            _row, item_id, value = max(writes, key=lambda w: w[0])
            # the value Airlock last wrote is what this change implicitly expects to replace
            job.send[result["field"]] = change | {"observed": value, "observed_given": True}
            job.implicit[result["field"]] = item_id
            result["observed"] = value


def _waiting(item_id: str, fields: set[str]) -> str:
    names = ", ".join(sorted(fields))
    return f"waiting for the earlier approved write of {names} ({item_id}) to this record"


def explain_implicit(job: WriteJob) -> None:
    """Say why a field with an implicit `observed` was not written (after the conflict check)."""
    for result in job.results:
        source = job.implicit.get(result["field"])
        if source is not None and result["state"] == "conflict":
            result["message"] = (
                f"changed in Salesforce since Airlock wrote it ({source}); not overwritten"
            )
