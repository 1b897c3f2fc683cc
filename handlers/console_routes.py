"""The console's pages: workflows, data access, items, one item, patterns, audit, evidence."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.base.errors import InvalidInput, NotFound
from bot.core.trace import governing_spec, item_view
from bot.reporting.console_access import Viewer, require_item, require_workflow
from bot.reporting.console_items import ItemFilter, page_items
from bot.reporting.console_workflows import access_map, spec_sections, workflow_state
from handlers.console import Console, add_sign_in, console_for
from handlers.console_audit import add_audit
from handlers.console_pages import access_body, item_body, items_body, workflow_body, workflows_body
from handlers.console_patterns import add_patterns
from models import Item


def build_console_router(rt_console: Console) -> APIRouter:
    """Every /console route, bound to one console."""
    router = APIRouter(prefix="/console", include_in_schema=False)
    add_sign_in(router, rt_console)
    _add_workflows(router, rt_console)
    _add_items(router, rt_console)
    add_patterns(router, rt_console)
    add_audit(router, rt_console)
    return router


def visible(console: Console, viewer: Viewer) -> list[str]:
    """The loaded workflows the viewer sees whole, sorted."""
    return sorted(w for w in console.rt.specs.specs if viewer.sees_workflow(w))


def _add_workflows(router: APIRouter, console: Console) -> None:
    rt = console.rt

    @router.get("", response_model=None)
    def workflows(request: Request) -> Response:
        def build(viewer: Viewer) -> tuple[str, str]:
            with rt.db.read() as session:
                rows = [
                    (w, rt.spec(w).spec.name, rt.spec(w).spec.owner, workflow_state(session, rt, w))
                    for w in visible(console, viewer)
                ]
            return "Workflows", workflows_body(rows)

        return console.render(request, build)

    @router.get("/workflows/{workflow_id}", response_model=None)
    def workflow(request: Request, workflow_id: str) -> Response:
        def build(viewer: Viewer) -> tuple[str, str]:
            loaded = rt.spec(workflow_id)
            require_workflow(viewer, workflow_id)
            with rt.db.read() as session:
                state = workflow_state(session, rt, workflow_id)
            body = workflow_body(workflow_id, state, spec_sections(loaded.spec))
            return f"{loaded.spec.name} ({workflow_id})", body

        return console.render(request, build)

    @router.get("/access", response_model=None)
    def access(request: Request) -> Response:
        def build(viewer: Viewer) -> tuple[str, str]:
            return "Data-access map", access_body(access_map(rt, visible(console, viewer)))

        return console.render(request, build)


def _add_items(router: APIRouter, console: Console) -> None:
    rt = console.rt

    @router.get("/items", response_model=None)
    def items(request: Request, after: str = "") -> Response:
        def build(viewer: Viewer) -> tuple[str, str]:
            wanted = _filter(request.query_params)
            with rt.db.read() as session:
                found = page_items(session, viewer, wanted, after or None)
            return "Items", items_body(wanted, found, visible(console, viewer))

        return console.render(request, build)

    @router.get("/items/{item_id}", response_model=None)
    def item(request: Request, item_id: str) -> Response:
        def build(viewer: Viewer) -> tuple[str, str]:
            with rt.db.read() as session:
                row = session.get(Item, item_id)
                if row is None:
                    raise NotFound(f"item {item_id!r} does not exist")
                require_item(viewer, row)
                view = item_view(session, item_id)
                spec = governing_spec(session, row.workflow_id, row.workflow_version)
            return f"Item {item_id}: {row.title}", item_body(view, spec, row.raw)

        return console.render(request, build)


def _filter(query: Mapping[str, str]) -> ItemFilter:
    """The item filter a query string asks for; empty fields filter nothing."""

    def text(name: str) -> str | None:
        return query.get(name, "").strip() or None

    return ItemFilter(
        text("workflow"),
        text("status"),
        text("agent"),
        text("reviewer"),
        text("record"),
        _day(query.get("since", ""), "since"),
        _day(query.get("until", ""), "until", end=True),
    )


def _day(value: str, name: str, *, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD filter as a UTC instant (the day's start; `end`: the next day's start)."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date; write YYYY-MM-DD") from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


__all__ = ["build_console_router", "console_for"]
