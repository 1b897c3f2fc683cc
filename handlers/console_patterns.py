"""/console/patterns: volume, decision rates, reasons, time to decision and trouble, as charts."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.base.errors import InvalidInput
from bot.core.rollups_read import Tally
from bot.reporting.console_access import Viewer, require_workflow
from bot.reporting.console_patterns import Patterns, patterns
from bot.reporting.outcomes import WorkflowOutcomes, lift_line, workflow_outcomes
from handlers.console import Console
from handlers.console_charts import bar_chart, line_chart
from handlers.console_html import esc, facts, select_input, table, text_input

MAX_DAYS = 366


def add_patterns(router: APIRouter, console: Console) -> None:
    """GET /console/patterns?workflow=&days=."""
    rt = console.rt

    @router.get("/patterns", response_model=None)
    def show(request: Request, workflow: str = "", days: int = 30) -> Response:
        def build(viewer: Viewer) -> tuple[str, str]:
            if not 1 <= days <= MAX_DAYS:
                raise InvalidInput(f"days must be between 1 and {MAX_DAYS}, got {days}")
            mine = sorted(w for w in rt.specs.specs if viewer.sees_workflow(w))
            if workflow:
                rt.spec(workflow)
                require_workflow(viewer, workflow)
            chosen = [workflow] if workflow else mine
            with rt.db.read() as session:
                found = patterns(session, chosen, days, rt.clock().date())
            form = (
                '<form class="filters" method="get" action="/console/patterns">'
                + select_input("workflow", "workflow", mine, workflow or None)
                + text_input("days", "days", str(days), "number")
                + "<button>Show</button></form>"
            )
            scope = esc(", ".join(chosen) or "no workflow")
            lifts = outcomes_body([o for w in chosen for o in workflow_outcomes(rt, w)])
            body = f"{form}<p>Workflows: {scope}</p>{patterns_body(found)}{lifts}"
            return "Patterns", body

        return console.render(request, build)


def patterns_body(found: Patterns) -> str:
    """The charts and the window's totals."""
    total = found.total
    charts = [
        line_chart("Items per day", [("received", found.series("received"))]),
        line_chart(
            "Decisions per day of arrival",
            [(s, found.series(s)) for s in ("approved", "edited", "rejected")],
            percent=True,
        ),
        line_chart("Median minutes to decision", [("median", found.median_wait())]),
        line_chart(
            "Write-back trouble",
            [(k, found.series(k)) for k in ("conflict", "failed", "reverted")],
        ),
        bar_chart("Top reject reasons", total.top_reasons(limit=8, unnamed="(no reason given)")),
    ]
    segments = table(
        ["workflow", "agent", "items", "decided", "accepted", "rejected", "conflicts", "failures"],
        (_segment(workflow, agent, t) for (workflow, agent), t in sorted(found.segments.items())),
    )
    return (
        f'{_totals(total)}<div class="charts">{"".join(charts)}</div>'
        f"<h2>Per workflow and agent</h2>{segments}{segments_body(total)}"
    )


def _segment(workflow: str, agent: str, tally: Tally) -> list[str]:
    status = tally.of("status")
    decided = sum(status.get(s, 0) for s in ("approved", "edited", "rejected"))
    accepted = status.get("approved", 0) + status.get("edited", 0)

    def share(n: int) -> str:
        return f"{n / decided:.0%}" if decided else "-"

    return [
        esc(workflow),
        esc(agent),
        esc(tally.received),
        esc(decided),
        share(accepted),
        share(status.get("rejected", 0)),
        esc(tally.get("writeback", "conflict")),
        esc(tally.get("writeback", "failed")),
    ]


def _totals(total: Tally) -> str:
    p50, p90 = total.percentile(50), total.percentile(90)
    status = total.of("status")
    summary = facts(
        [
            ("items", esc(total.received)),
            ("decided", esc(total.decided)),
            (
                "approved · edited · rejected",
                esc(" · ".join(str(status.get(s, 0)) for s in ("approved", "edited", "rejected"))),
            ),
            ("expired (nobody answered)", esc(status.get("expired", 0))),
            ("escalated", esc(total.get("escalated"))),
            ("median · p90 time to decision", esc(f"{_took(p50)} · {_took(p90)}" if p50 else None)),
            (
                "write-back conflicts · failures · reverts",
                esc(
                    " · ".join(
                        str(total.get("writeback", k)) for k in ("conflict", "failed", "reverted")
                    )
                ),
            ),
        ]
    )
    return summary


def _took(delta: timedelta | None) -> str:
    """A duration as people read it: seconds, minutes, hours or days."""
    seconds = delta.total_seconds() if delta else 0.0
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def outcomes_body(found: list[WorkflowOutcomes]) -> str:
    """Treated vs holdout lift where a workflow measures outcomes, as `airlock outcomes`."""
    if not found:
        return ""
    rows = []
    for wf in found:
        rows += [[esc(wf.workflow), "all", esc(lift_line(lift))] for lift in wf.overall]
        rows += [
            [esc(wf.workflow), esc(segment), esc(lift_line(lift))]
            for segment, lifts in wf.segments.items()
            for lift in lifts
        ]
    return "<h2>Outcome lift (all time)</h2>" + table(["workflow", "segment", "lift"], rows)


def segments_body(total: Tally) -> str:
    """Decisions per segment (the spec's `segment_by`), where items carry one."""
    per: dict[str, Counter[str]] = {}
    for key, n in total.of("segment").items():
        status, _, segment = key.partition(":")
        per.setdefault(segment, Counter())[status] += n
    if not per:
        return ""
    rows = []
    for segment, counts in sorted(per.items()):
        decided = sum(counts[s] for s in ("approved", "edited", "rejected"))
        accepted = counts["approved"] + counts["edited"]
        rate = f"{accepted / decided:.0%}" if decided else "-"
        rows.append([esc(segment), esc(sum(counts.values())), esc(decided), rate])
    return "<h2>Per segment</h2>" + table(["segment", "items", "decided", "accepted"], rows)
