"""The console's workflow and item pages, built from read models into escaped HTML."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.base.levels import Status
from bot.reporting.console_items import ItemFilter, ItemPage
from bot.reporting.console_workflows import AccessRow, WorkflowState
from handlers.console_html import esc, facts, link, pretty, select_input, table, text_input


def workflows_body(rows: Sequence[tuple[str, str, str, WorkflowState]]) -> str:
    """Every visible workflow: (id, name, owner, state)."""
    if not rows:
        return "<p>You own no workflow. Your items are under " + link("/console/items", "Items")
    body = table(
        ["workflow", "name", "owner", "state", "mode", "last change", "by", "why"],
        (
            [
                link(f"/console/workflows/{wid}", wid),
                esc(name),
                esc(owner),
                esc(state.state),
                esc(state.mode),
                esc(state.changed),
                esc(state.by),
                esc(state.why),
            ]
            for wid, name, owner, state in rows
        ),
    )
    return body + "<p>" + link("/console/access", "Data-access map across these workflows")


def workflow_body(
    workflow_id: str, state: WorkflowState, sections: Sequence[tuple[str, Any]]
) -> str:
    """One operating spec, section by section, and its state."""
    status = facts(
        [
            ("state", esc(state.state)),
            ("mode", esc(state.mode)),
            ("spec version", esc(state.version)),
            ("last change", esc(state.changed)),
            ("by", esc(state.by)),
            ("why", esc(state.why)),
            ("at", esc(state.at)),
        ]
    )
    spec = facts((name, pretty(value)) for name, value in sections)
    links = " · ".join(
        [
            link("/console/items", "items", workflow=workflow_id),
            link("/console/patterns", "patterns", workflow=workflow_id),
            link("/console/evidence", "evidence export (last 30 days)", workflow=workflow_id),
        ]
    )
    return f"<p>{links}</p><h2>State</h2>{status}<h2>Operating spec</h2>{spec}"


def access_body(rows: Sequence[AccessRow]) -> str:
    """The data-access map: what each workflow may see, decide, write and trigger."""

    def cell(lines: list[str]) -> str:
        return "<br>".join(esc(line) for line in lines)

    return table(
        ["workflow", "owner", "may see", "decides (gates)", "may write", "may trigger"],
        (
            [
                link(f"/console/workflows/{r.workflow}", r.workflow) + f"<br>{esc(r.name)}",
                esc(r.owner),
                cell(r.sees),
                cell(r.decides),
                cell(r.writes),
                cell(r.triggers),
            ]
            for r in rows
        ),
    )


def items_body(wanted: ItemFilter, page: ItemPage, workflows: Sequence[str]) -> str:
    """The filter form and one page of items."""
    form = (
        '<form class="filters" method="get" action="/console/items">'
        + select_input("workflow", "workflow", workflows, wanted.workflow)
        + select_input("status", "status", [s.value for s in Status], wanted.status)
        + text_input("agent", "agent", wanted.agent)
        + text_input("reviewer", "reviewer", wanted.reviewer)
        + text_input("record", "record", wanted.record)
        + text_input(
            "since", "since", wanted.since.date().isoformat() if wanted.since else None, "date"
        )
        + text_input(
            "until", "until", wanted.until.date().isoformat() if wanted.until else None, "date"
        )
        + "<button>Filter</button></form>"
    )
    rows = (
        [
            link(f"/console/items/{i.id}", i.id),
            esc(i.created_at.isoformat(timespec="seconds")),
            esc(i.workflow_id),
            esc(i.agent),
            esc(i.title),
            esc(i.status),
            esc(i.assignee),
            esc(i.record_id),
            esc(i.writeback_state),
        ]
        for i in page.items
    )
    headers = ["item", "arrived", "workflow", "agent", "title", "status", "reviewer", "record"]
    listing = table([*headers, "write-back"], rows) if page.items else "<p>No items match.</p>"
    more = ""
    if page.next_cursor:
        more = "<p>" + link(
            "/console/items", "Next page →", **_query(wanted), after=page.next_cursor
        )
    return form + listing + more


def _query(wanted: ItemFilter) -> dict[str, str | None]:
    return {
        "workflow": wanted.workflow,
        "status": wanted.status,
        "agent": wanted.agent,
        "reviewer": wanted.reviewer,
        "record": wanted.record,
        "since": wanted.since.date().isoformat() if wanted.since else None,
        "until": wanted.until.date().isoformat() if wanted.until else None,
    }


def item_body(view: dict[str, Any], spec: dict[str, Any] | None, raw: str) -> str:
    """An item's whole trace: the facts `airlock trace` prints, laid out."""
    proposed = {k: view[k] for k in ("changes", "task", "message")}
    written = view["writeback"] or "nothing written"
    checks, sources, trace, effects = _item_tables(view)
    return (
        f"{_item_facts(view)}<h2>Summary and reasons</h2><p>{esc(view['summary'])}</p>"
        f"<ul>{''.join(f'<li>{esc(r)}</li>' for r in view['reasons'])}</ul>"
        f"<h2>Proposed</h2>{pretty(proposed)}"
        f"<h2>Sources</h2>{sources}<h2>Checks</h2>{checks}"
        f"<h2>Every event (hash-chained)</h2>{trace}"
        f"<h2>What Salesforce received</h2>{pretty(written)}{effects}"
        f"<h2>Submission as received</h2>{pretty(raw)}"
        f"<h2>Spec version {esc(view['workflow_version'])}</h2>{pretty(spec or 'not stored')}"
    )


def _item_facts(view: dict[str, Any]) -> str:
    d = view["decision"]
    return facts(
        [
            ("workflow", link(f"/console/workflows/{view['workflow']}", view["workflow"])),
            ("spec version", esc(view["workflow_version"])),
            ("agent", esc(view["agent"])),
            ("kind · level · gate", esc(f"{view['kind']} · {view['level']} · {view['gate']}")),
            ("gate reasons", esc("; ".join(view["gate_reasons"]) or None)),
            ("status", esc(view["status"])),
            ("authority", esc(view["authority"])),
            ("reviewer · manager", esc(f"{view['assignee']} · {view['manager']}")),
            ("decision", esc(f"{d['by']} at {d['at']}") + pretty(d) if d else esc(None)),
            ("confidence", esc(view["confidence"])),
            (
                "record",
                esc(view["record"] and f"{view['record']['sobject']} {view['record']['id']}"),
            ),
            ("write-back", esc(view["writeback_state"])),
        ]
    )


def _item_tables(view: dict[str, Any]) -> tuple[str, str, str, str]:
    """Checks, sources, every event, and the side effects."""
    checks = table(
        ["check", "result", "on fail", "detail"],
        (
            [esc(c["name"]), _passed(c["passed"]), esc(c.get("on_fail")), esc(c.get("detail"))]
            for c in view["checks"]
        ),
    )
    sources = table(
        ["title", "url", "excerpt"],
        ([esc(s.get("title")), esc(s.get("url")), esc(s.get("excerpt"))] for s in view["sources"]),
    )
    trace = table(
        ["#", "at", "event", "actor", "data"],
        (
            [esc(e["seq"]), esc(e["at"]), esc(e["type"]), esc(e["actor"]), pretty(e["data"])]
            for e in view["trace"]
        ),
    )
    effects = table(
        ["kind", "status", "attempts", "error"],
        (
            [esc(o["kind"]), esc(o["status"]), esc(o["attempts"]), esc(o["error"])]
            for o in view["side_effects"]
        ),
    )
    return checks, sources, trace, effects


def _passed(passed: bool) -> str:
    return '<span class="ok">ok</span>' if passed else '<span class="bad">FAILED</span>'
