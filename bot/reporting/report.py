"""`airlock report` and `airlock export-evals`: every decision as metrics and as eval data."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.base.config import ConfigError, Settings
from bot.core.decisions import effective_changes
from bot.core.runtime import Runtime
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

    def rate(self, part: int, whole: int | None = None) -> str:
        """A percentage, or n/a without data."""
        whole = self.decided if whole is None else whole
        return f"{part / whole:.0%}" if whole else "n/a"


def _row(workflow: str, segment: str, items: list[Item]) -> Row:
    count = Counter(i.status for i in items)
    decided = [i for i in items if i.status in VERDICTS[:3] and i.decided_at]
    waits = sorted(i.decided_at - i.created_at for i in decided if i.decided_at)
    reasons = Counter(
        (i.decision or {}).get("reason", "unspecified") for i in items if i.status == "rejected"
    )
    writes = [i for i in items if i.writeback_state in ("written", "conflict", "failed")]
    return Row(
        workflow,
        segment,
        len(items),
        len(decided),
        count["approved"],
        count["edited"],
        count["rejected"],
        count["expired"],
        sum(1 for i in items if i.escalated),
        sum(1 for i in writes if i.writeback_state == "written"),
        len(writes),
        waits[len(waits) // 2] if waits else None,
        reasons.most_common(3),
    )


def report_rows(rt: Runtime, since: datetime | None = None) -> list[Row]:
    """Per workflow, then per agent within it."""
    rows = []
    for workflow_id in sorted(rt.specs.specs):
        query = select(Item).where(col(Item.workflow_id) == workflow_id)
        if since:
            query = query.where(col(Item.created_at) >= since)
        with rt.db.read() as session:
            items = list(session.exec(query))
        rows.append(_row(workflow_id, "all agents", items))
        agents = sorted({i.agent for i in items})
        if len(agents) > 1:
            rows += [
                _row(workflow_id, f"agent {a}", [i for i in items if i.agent == a]) for a in agents
            ]
    return rows


def render_report(rows: list[Row]) -> str:
    """A readable table."""
    head = (
        f"{'workflow':<22}{'segment':<20}{'recv':>6}{'decided':>8}{'accept':>8}{'edit':>7}"
        f"{'reject':>8}{'expired':>8}{'escal':>7}{'written':>9}{'median':>9}  top reasons"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        median = f"{r.median_decision.total_seconds() / 60:.0f}m" if r.median_decision else "n/a"
        reasons = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in r.reasons) or "-"
        lines.append(
            f"{r.workflow:<22}{r.segment[:19]:<20}{r.received:>6}{r.decided:>8}"
            f"{r.rate(r.approved + r.edited):>8}{r.rate(r.edited):>7}{r.rate(r.rejected):>8}"
            f"{r.expired:>8}{r.rate(r.escalated, r.received):>7}"
            f"{r.rate(r.written, r.writes):>9}{median:>9}  {reasons}"
        )
    return "\n".join(lines)


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
    return {
        "id": item.id,
        "workflow": item.workflow_id,
        "workflow_version": item.workflow_version,
        "agent": item.agent,
        "input": json.loads(item.raw),
        "output": output,
        "verdict": item.status,
        "ideal": corrected or (output if item.status == "approved" else None),
        "reason": decision.get("reason"),
        "reason_text": decision.get("text"),
        "reviewer": item.decided_by,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
        "writeback_state": item.writeback_state,
    }
