"""The MCP server: Airlock's agent API as tools, over stdio (`airlock mcp`) or HTTP at /mcp.

Every tool answers through bot.reporting.agent_views, the functions the HTTP API calls, so a key
has the same scope and gets the same refusals either way. Over HTTP the key is the request's
`Authorization: Bearer`; over stdio it is the one `airlock mcp` was started with.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from bot.base.errors import AirlockError
from bot.base.http_input import bearer
from bot.base.levels import Status
from bot.base.submission import Submission
from bot.core.runtime import Runtime
from bot.core.waiting import MAX_WAIT_SECONDS
from bot.reporting import agent_views

T = TypeVar("T")
_UNDECIDED = {Status.PENDING.value, Status.HELD.value}
# Reads change nothing and repeat safely; none reaches outside Airlock.
_READ = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
# Intake adds an item, never alters one, and a repeat (same body or idempotency key) returns
# the first answer; it can post a review card to Slack, hence open-world.
_SUBMIT = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)


def build_mcp(rt: Runtime, *, stdio_key: str | None = None) -> MCPServer:
    """The MCP server bound to one runtime; `stdio_key` is the key a stdio session acts as."""
    with _root_logging_kept():
        server = MCPServer(
            "airlock",
            instructions="Submit agent work for human review and learn the verdict. Submitting "
            "never waits for a human: call wait_for_decision (bounded) or get_item afterwards.",
        )
    bound = _Bound(rt, stdio_key)
    _add_workflow_tools(server, bound)
    _add_item_tools(server, bound)
    return server


@contextmanager
def _root_logging_kept() -> Iterator[None]:
    """Undo what MCPServer() does to the root logger: `logging.basicConfig(level=INFO)` with a
    RichHandler on stderr (modelcontextprotocol/python-sdk issues 1656 and 2527). Left in place,
    every audit event of the process was rendered by Rich at INFO, whatever the operator chose,
    and a stdio session could block on a full stderr pipe."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@dataclass(frozen=True)
class _Bound:
    """What every tool needs: the runtime, and how to find the calling key."""

    rt: Runtime
    stdio_key: str | None

    def token(self, ctx: Context) -> str | None:
        headers = ctx.headers
        if headers is None:  # stdio: no request, the process's own key
            return self.stdio_key
        return bearer(headers.get("authorization"))

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await to_thread.run_sync(partial(fn, *args))
        except AirlockError as exc:
            raise ToolError(_refusal(exc)) from exc


def _add_workflow_tools(server: MCPServer, bound: _Bound) -> None:
    """list_workflows and list_feedback: what the key may submit to, and what humans said."""
    rt = bound.rt

    @server.tool(annotations=_READ)
    async def list_workflows(ctx: Context) -> dict[str, Any]:
        """The workflows this key may submit to: what each accepts, its gates, mode and state."""
        return {"workflows": await bound.call(agent_views.workflows_for, rt, bound.token(ctx))}

    @server.tool(annotations=_READ)
    async def list_feedback(
        ctx: Context,
        workflow: str | None = None,
        limit: Annotated[int, Field(ge=1, le=agent_views.MAX_FEEDBACK)] = 20,
    ) -> dict[str, Any]:
        """Recent verdicts on this key's workflows: approvals, edits, rejections with reasons."""
        feedback = partial(agent_views.feedback_for, workflow=workflow, limit=limit)
        return {"feedback": await bound.call(feedback, rt, bound.token(ctx))}


def _add_item_tools(server: MCPServer, bound: _Bound) -> None:
    """submit_item, get_item and wait_for_decision."""
    rt = bound.rt

    @server.tool(annotations=_SUBMIT)
    async def submit_item(item: Submission, ctx: Context) -> dict[str, Any]:
        """Submit one output for review; answers at once with id, status and gate."""
        raw = json.dumps(item.model_dump(mode="json", exclude_unset=True)).encode()
        result = await bound.call(agent_views.intake_for, rt, bound.token(ctx), raw)
        return result.body | {"replayed": result.replayed}

    @server.tool(annotations=_READ)
    async def get_item(item_id: str, ctx: Context) -> dict[str, Any]:
        """An item's status, decision, authority, write-back state and audit trail."""
        return await bound.call(agent_views.item_for, rt, bound.token(ctx), item_id)

    @server.tool(annotations=_READ)
    async def wait_for_decision(
        item_id: str,
        ctx: Context,
        timeout_seconds: Annotated[float, Field(ge=0, le=MAX_WAIT_SECONDS)] = 30,
    ) -> dict[str, Any]:
        """Wait (at most 60 s) until a human decides the item; returns it, decided or not."""
        view = await bound.call(agent_views.item_for, rt, bound.token(ctx), item_id)
        if view["status"] not in _UNDECIDED:
            return view
        try:
            return await agent_views.wait_item(rt, bound.token(ctx), item_id, timeout_seconds)
        except AirlockError as exc:
            raise ToolError(_refusal(exc)) from exc


def _refusal(exc: AirlockError) -> str:
    # The same status and words the HTTP API would answer with, so an agent can act on them.
    return f"{exc.status} {exc.title}: {exc.detail}"
