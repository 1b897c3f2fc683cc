"""`airlock report` and `airlock export-evals`: every decision as metrics and as eval data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.base.config import ConfigError, Settings
from bot.core.decisions import effective_changes
from bot.core.rollups_read import Tally, by_workflow, tallies
from bot.core.runtime import Runtime
from bot.reporting.rubber_stamp import flagged
from bot.salesforce.client import SalesforceClient, SalesforceError, config_from_settings
from bot.salesforce.usage import usage_text
from models import Item

VERDICTS = ("approved", "edited", "rejected", "expired")


@dataclass(frozen=True)
class Row:
    """One line of the report: a workflow, or one agent's share of it (a segment)."""

    workflow: str
    segment: str
    received: int
    decided: int
    approved: int
    edited: int
    rejected: int
    expired: int
    escalated: int
    written: int
    writes: int
    median_decision: timedelta | None
    reasons: list[tuple[str, int]]
    p90_decision: timedelta | None = None
    # A segment's row: counted by status only (escalation, writes and latency are not split).
    status_only: bool = False
    reverted: int = 0  # written, then undone or changed back by a person

    def rate(self, part: int, whole: int | None = None) -> str:
        """A percentage, or n/a without data."""
        whole = self.decided if whole is None else whole
        return f"{part / whole:.0%}" if whole else "n/a"


def _row(workflow: str, segment: str, tally: Tally) -> Row:
    status, writes = tally.of("status"), tally.of("writeback")
    return Row(
        workflow,
        segment,
        tally.received,
        tally.decided,
        status.get("approved", 0),
        status.get("edited", 0),
        status.get("rejected", 0),
        status.get("expired", 0),
        tally.get("escalated"),
        writes.get("written", 0) + writes.get("reverted", 0),
        sum(writes.get(s, 0) for s in ("written", "conflict", "failed", "reverted")),
        tally.percentile(50),
        tally.top_reasons(unnamed="unspecified"),
        tally.percentile(90),
        reverted=writes.get("reverted", 0),
    )


def report_rows(rt: Runtime, since: datetime | None = None) -> list[Row]:
    """Per workflow, then per agent within it, from the rollups of items received since `since`.

    The window starts at the beginning of `since`'s hour (hourly buckets); its cost follows the
    number of buckets in it and of workflows, not the number of items.
    """
    with rt.db.read() as session:
        found = tallies(session, rt.specs.specs, since=since)
    rows, whole = [], by_workflow(found)
    for workflow_id in sorted(rt.specs.specs):
        agents = {a: t for (w, a), t in sorted(found.items()) if w == workflow_id and t.received}
        rows.append(_row(workflow_id, "all agents", whole.get(workflow_id, Tally())))
        if len(agents) > 1:
            rows += [_row(workflow_id, f"agent {a}", t) for a, t in agents.items()]
        rows += _segment_rows(workflow_id, whole.get(workflow_id, Tally()))
    return rows


def _segment_rows(workflow_id: str, tally: Tally) -> list[Row]:
    """One row per segment (given at intake or read from `segment_by`), by status."""
    per: dict[str, dict[str, int]] = {}
    for key, n in tally.of("segment").items():
        state, _, name = key.partition(":")
        per.setdefault(name, {})[state] = n
    rows = []
    for segment, status in sorted(per.items()):
        a, e, r = (status.get(s, 0) for s in ("approved", "edited", "rejected"))
        rows.append(
            Row(
                workflow_id,
                f"segment {segment}",
                sum(status.values()),
                a + e + r,
                a,
                e,
                r,
                status.get("expired", 0),
                0,
                0,
                0,
                None,
                [],
                status_only=True,
            )
        )
    return rows


def render_report(rows: list[Row]) -> str:
    """A readable table."""
    head = (
        f"{'workflow':<22}{'segment':<20}{'recv':>6}{'decided':>8}{'accept':>8}{'edit':>7}"
        f"{'reject':>8}{'expired':>8}{'escal':>7}{'written':>9}{'revert':>8}{'median':>9}"
        f"{'p90':>8}"
        "  top reasons"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        median, p90 = _minutes(r.median_decision), _minutes(r.p90_decision)
        reasons = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in r.reasons) or "-"
        escalated = "-" if r.status_only else r.rate(r.escalated, r.received)
        written = "-" if r.status_only else r.rate(r.written, r.writes)
        reverted = "-" if r.status_only else r.rate(r.reverted, r.written)
        if r.status_only:
            median = p90 = reasons = "-"
        lines.append(
            f"{r.workflow:<22}{r.segment[:19]:<20}{r.received:>6}{r.decided:>8}"
            f"{r.rate(r.approved + r.edited):>8}{r.rate(r.edited):>7}{r.rate(r.rejected):>8}"
            f"{r.expired:>8}{escalated:>7}{written:>9}{reverted:>8}{median:>9}{p90:>8}  {reasons}"
        )
    return "\n".join(lines)


def rubber_stamp_lines(rt: Runtime) -> list[str]:
    """One line per reviewer whose last decisions in a workflow look like rubber-stamping."""
    with rt.db.read() as session:
        return [
            f"Possible rubber-stamping in {workflow_id}: {found.reviewer} {found}"
            for workflow_id in sorted(rt.specs.specs)
            for found in flagged(session, workflow_id)
        ]


def _minutes(span: timedelta | None) -> str:
    return f"{span.total_seconds() / 60:.0f}m" if span is not None else "n/a"


def usage_line(settings: Settings) -> str:
    """The org's API usage for the report: one limits call (sandbox: nothing to ask)."""
    if settings.salesforce_sandbox:
        return "Salesforce API requests: no org configured (sandbox)"
    try:
        client = SalesforceClient(config_from_settings(settings))
    except (ConfigError, ValueError) as error:
        return f"Salesforce API requests: unknown ({error})"
    try:
        info = client.api_usage()
    except SalesforceError as error:
        return f"Salesforce API requests: unknown, the org did not answer ({error})"
    finally:
        client.close()
    return usage_text(info, settings.salesforce_api_usage_ceiling)


def eval_records(rt: Runtime, workflow: str | None = None) -> Iterator[dict[str, Any]]:
    """One JSON-ready record per item a person judged (or ignored): input, output, verdict."""
    query = select(Item).where(col(Item.status).in_(VERDICTS)).order_by(col(Item.created_at))
    if workflow:
        query = query.where(col(Item.workflow_id) == workflow)
    with rt.db.read() as session:
        items = list(session.exec(query))
    for item in items:
        yield _record(item)


def _corrected(item: Item, output: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    """The output as the reviewer would have had it: every edit applied."""
    edits = {f: e["to"] for f, e in decision.get("edits", {}).items()}
    fixed = output | {
        "changes": [{k: c[k] for k in ("field", "value")} for c in effective_changes(item)]
    }
    for name, value in edits.items():
        part, _, key = name.partition(".")
        if key and isinstance(fixed.get(part), dict):
            fixed[part] = fixed[part] | {key: value}
        elif name == "summary":
            fixed["summary"] = value
    return fixed


def _record(item: Item) -> dict[str, Any]:
    output = {
        "kind": item.kind,
        "title": item.title,
        "summary": item.summary,
        "reasons": item.reasons,
        "changes": [{k: c[k] for k in ("field", "value")} for c in item.changes],
        "task": item.task,
        "message": item.message,
    }
    decision = item.decision or {}
    corrected = _corrected(item, output, decision) if item.status == "edited" else None
    reverted = item.writeback_state == "reverted"
    return {
        "id": item.id,
        "workflow": item.workflow_id,
        "workflow_version": item.workflow_version,
        "agent": item.agent,
        "input": json.loads(item.raw),
        "output": output,
        # a write a person undid or changed back is the strongest "no": it overrides the approval
        "verdict": "reverted" if reverted else item.status,
        "ideal": None if reverted else corrected or (output if item.status == "approved" else None),
        "reason": decision.get("reason"),
        "reason_text": decision.get("text"),
        "reviewer": item.decided_by,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
        "writeback_state": item.writeback_state,
    }
