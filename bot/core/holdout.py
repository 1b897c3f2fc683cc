"""Who is held out of a workflow, and when an item's outcome is read.

An item is eligible when its workflow measures outcomes on its record's sObject. Its arm follows
from a stable hash of (workflow, record): the same record stays in the same arm for every item,
so the holdout never sees Airlock act on it, and the split needs no stored state.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from bot.base.levels import Status
from bot.base.spec_model import OutcomeMetric, WorkflowSpec

HOLDOUT = "holdout"
TREATED = "treated"


def hash_share(workflow_id: str, record_id: str) -> float:
    """A number in [0, 1) fixed by the workflow and the record (the first 64 bits of SHA-256)."""
    digest = hashlib.sha256(f"{workflow_id}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def metrics_for(spec: WorkflowSpec, sobject: str | None) -> list[OutcomeMetric]:
    """The outcome metrics read from a record of this sObject."""
    return [metric for metric in spec.outcome.metrics if metric.sobject == sobject]


def route(spec: WorkflowSpec, sobject: str | None, record_id: str | None, status: Status) -> Status:
    """`held_out` for an eligible item whose record hashes into the holdout; `status` otherwise.

    Drawn before anything is posted, whatever the gate: the two arms hold the same mix of items
    (intention to treat). Shadow mode acts on nothing, so it has no holdout.
    """
    share = spec.outcome.holdout
    if not share or status is Status.SHADOWED or record_id is None:
        return status
    if not metrics_for(spec, sobject):
        return status
    return Status.HELD_OUT if hash_share(spec.id, record_id) < share else status


def arm(status: str) -> str:
    """The arm of a measured item."""
    return HOLDOUT if status == Status.HELD_OUT else TREATED


def first_due(spec: WorkflowSpec, values: dict[str, Any], now: datetime) -> datetime | None:
    """When the new item's first outcome read is due: at once when a baseline or a segment is
    to be read, at the end of the window otherwise; None when nothing is ever read."""
    if values["status"] == Status.SHADOWED or values["record_id"] is None:
        return None
    measured = metrics_for(spec, values["record_sobject"])
    if baseline_fields(spec, values["record_sobject"], values["segment"]):
        return now
    if measured and spec.outcome.window is not None:
        return now + spec.outcome.window
    return None


def segment_path(segment_by: str, sobject: str) -> str:
    """The field to read on a record of `sobject` for `segment_by` (Account.Industry is
    Industry on an Account, and Account.Industry, through its lookup, on an Opportunity)."""
    owner, _, name = segment_by.partition(".")
    return name if owner == sobject else segment_by


def baseline_fields(spec: WorkflowSpec, sobject: str | None, segment: str | None) -> list[str]:
    """Fields read when the item arrives: those `changed` compares against, and the segment."""
    found = [m.name_in_sobject for m in metrics_for(spec, sobject) if m.changed]
    if spec.segment_by and segment is None and sobject is not None:
        found.append(segment_path(spec.segment_by, sobject))
    return list(dict.fromkeys(found))
