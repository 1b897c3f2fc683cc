"""/console/audit (what `airlock audit verify` finds) and /console/evidence (a signed bundle)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from bot.base.errors import AirlockError, Forbidden, InvalidInput
from bot.core.audit import verify
from bot.core.audit_report import Report
from bot.core.checkpoint import latest
from bot.core.evidence import bundle_lines
from bot.reporting.console_access import Viewer, require_workflow
from handlers.console import Console, SignInFirst, error_page
from handlers.console_html import esc, facts, link, table
from models import AuditCheckpoint

EVIDENCE_DAYS = 30


def add_audit(router: APIRouter, console: Console) -> None:
    """GET /console/audit[?run=1] and GET /console/evidence?workflow=&since=&until=."""
    rt = console.rt

    @router.get("/audit", response_model=None)
    def audit(request: Request, run: bool = False) -> Response:
        def build(viewer: Viewer) -> tuple[str, str]:
            if not viewer.admin:
                raise Forbidden("the audit trail covers every workflow: admins only")
            with rt.db.read() as session:
                checkpoint = latest(session)
                report = verify(session, rt.settings.audit_key_value) if run else None
            return "Audit", audit_body(checkpoint, report)

        return console.render(request, build)

    _add_evidence(router, console)


def _add_evidence(router: APIRouter, console: Console) -> None:
    rt = console.rt

    @router.get("/evidence", response_model=None)
    def evidence(request: Request, workflow: str, since: str = "", until: str = "") -> Response:
        try:
            viewer = console.viewer(request)
            rt.spec(workflow)
            require_workflow(viewer, workflow)
            start, end = _period(since, until, rt.clock())
        except SignInFirst:
            return Response(status_code=303, headers={"Location": "/console/signin"})
        except AirlockError as error:
            return error_page(error)
        name = f"evidence-{workflow}-{start.date()}-{(end - timedelta(days=1)).date()}.jsonl"

        def lines() -> Iterator[str]:
            with rt.db.read() as session:
                yield from bundle_lines(
                    session, workflow, start, end, rt.settings.audit_key_value, rt.clock()
                )

        return StreamingResponse(
            lines(),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def audit_body(checkpoint: AuditCheckpoint | None, report: Report | None) -> str:
    """The latest checkpoint, and what verify found when it was run."""
    head = facts(
        [
            ("latest checkpoint", esc(checkpoint and f"#{checkpoint.seq} at {checkpoint.at}")),
            ("signed", esc(checkpoint and ("yes" if checkpoint.signed else "no (no key)"))),
        ]
    )
    if report is None:
        found = "<p>" + link("/console/audit", "Verify the whole trail now", run=1)
        found += " (reads every event: minutes on a large trail, as `airlock audit verify`)."
    elif report.problems:
        found = '<p class="bad">TAMPERED</p>' + table(
            ["stream", "problem"], ([esc(p.stream), esc(p.problem)] for p in report.problems)
        )
    else:
        found = (
            f'<p class="ok">ok: {report.checked} chains, {report.events} events and '
            f"{report.checkpoints} checkpoint(s) verified, no tampering found</p>"
        )
    notes = "".join(f"<p>note: {esc(n)}</p>" for n in report.notes) if report else ""
    return head + found + notes


def _period(since: str, until: str, now: datetime) -> tuple[datetime, datetime]:
    """[since, until + 1 day) in UTC; by default the last 30 days up to today."""
    try:
        last = datetime.fromisoformat(until).date() if until else now.astimezone(UTC).date()
        first = (
            datetime.fromisoformat(since).date()
            if since
            else last - timedelta(days=EVIDENCE_DAYS - 1)
        )
    except ValueError:
        raise InvalidInput("since and until are dates: write YYYY-MM-DD") from None
    if last < first:
        raise InvalidInput("until is before since")
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return start, datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
