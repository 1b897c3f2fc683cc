"""The 200 bodies of the agent API's reads, as JSON Schemas in /openapi.json.

The models only describe what bot.core.trace.item_view and bot.reporting.queries.workflow_detail
return (the routes return those dicts unchanged); `extra="forbid"` makes /openapi.json say which
keys exist, so clients and the fuzzer's response check hold the answers to them, and the tests
validate real answers against these models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.base.levels import Authority, Gate, Kind, Level, Mode, Status, WritebackState
from handlers.api_docs import inlined


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecordRef(_Closed):
    sobject: str | None
    id: str


class SideEffect(_Closed):
    kind: str
    status: str
    attempts: int
    error: str | None


class TrailEvent(_Closed):
    seq: int
    at: str
    type: str
    actor: str
    data: dict[str, Any] | None
    hash: str


class ItemView(_Closed):
    """An item: what the agent sent, how it was judged, who decided, and its audit trail."""

    id: str
    workflow: str
    workflow_version: str
    agent: str
    kind: Kind
    title: str
    summary: str
    reasons: list[str]
    sources: list[dict[str, Any]]
    confidence: float | None
    record: RecordRef | None
    changes: list[dict[str, Any]]
    task: dict[str, Any] | None
    message: dict[str, Any] | None
    status: Status
    gate: Gate
    level: Level
    gate_reasons: list[str]
    checks: list[dict[str, Any]]
    assignee: str | None
    manager: str | None
    escalated: bool
    snoozed_until: str | None
    authority: Authority
    decision: dict[str, Any] | None
    writeback_state: WritebackState
    writeback: dict[str, Any] | None
    created_at: str
    raw_hash: str
    side_effects: list[SideEffect]
    trace: list[TrailEvent]


class WorkflowMetrics(_Closed):
    items: dict[str, int]
    decided: int
    acceptance_rate: float | None
    outcomes: list[dict[str, Any]]


class WorkflowView(_Closed):
    """A workflow an agent may submit to: its spec, mode, stop button and metrics."""

    id: str
    name: str
    owner: str
    level: Level
    mode: Mode
    version: str
    state: str
    paused: bool
    paused_reason: str | None
    paused_by: str | None
    metrics: WorkflowMetrics
    spec: dict[str, Any]


class WorkflowList(_Closed):
    workflows: list[WorkflowView]


def body(model: type[BaseModel], about: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry for a 200 answer of `model`."""
    schema = inlined(model.model_json_schema())
    return {200: {"description": about, "content": {"application/json": {"schema": schema}}}}
