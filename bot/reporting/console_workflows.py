"""The console's workflow pages: each operating spec, its state, and the data-access map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot.base.levels import DEFAULT_GATE, KIND_LEVEL, NEVER_AUTO, Mode, max_level
from bot.base.spec_model import WorkflowSpec
from bot.core.lifecycle import workflow_stream
from bot.core.runtime import Runtime
from models import Event, Workflow

# The workflow events that change whether and how it runs.
STATE_EVENTS = ("paused", "resumed", "promoted", "demoted")


@dataclass(frozen=True)
class WorkflowState:
    """active / paused / autopilot, and the last change: by whom, why, when."""

    state: str
    mode: str
    version: str
    changed: str | None  # the last state event's type
    by: str | None
    why: str | None
    at: str | None


@dataclass(frozen=True)
class AccessRow:
    """One workflow's reach, as legal and security ask it."""

    workflow: str
    name: str
    owner: str
    sees: list[str]
    decides: list[str]
    writes: list[str]
    triggers: list[str]


def workflow_state(session: Session, rt: Runtime, workflow_id: str) -> WorkflowState:
    """The workflow's state and the newest event that changed it (one index range, LIMIT 1)."""
    loaded = rt.spec(workflow_id)
    row = session.get(Workflow, workflow_id)
    mode = row.mode_override if row and row.mode_override else loaded.spec.mode.value
    paused = bool(row and row.paused)
    last = session.exec(
        select(Event)
        .where(col(Event.stream) == workflow_stream(workflow_id), col(Event.type).in_(STATE_EVENTS))
        .order_by(col(Event.seq).desc())
        .limit(1)
    ).first()
    data: dict[str, Any] = last.data if last else {}
    why = data.get("reason") or (
        f"{data['decisions']} decisions, approve-without-edit lower bound {data['lower_bound']}"
        if last and last.type == "promoted" and "decisions" in data
        else None
    )
    return WorkflowState(
        "paused" if paused else ("autopilot" if mode == Mode.AUTOPILOT.value else "active"),
        mode,
        loaded.version,
        last.type if last else None,
        last.actor if last else None,
        str(why) if why else None,
        last.at.isoformat() if last else None,
    )


def access_map(rt: Runtime, workflows: list[str]) -> list[AccessRow]:
    """Which workflow may see, decide, write and trigger what."""
    rows = []
    for workflow_id in workflows:
        spec = rt.spec(workflow_id).spec
        rows.append(
            AccessRow(
                workflow_id,
                spec.name,
                spec.owner,
                _sees(spec),
                _decides(spec),
                _writes(spec),
                _triggers(spec),
            )
        )
    return rows


def _sees(spec: WorkflowSpec) -> list[str]:
    records = sorted({f.split(".", 1)[0] for f in spec.allowed_outputs.fields})
    found = [f"input: {name}" for name in spec.inputs]
    found += [f"reads current values of {name} records (conflict check)" for name in records]
    return found


def _decides(spec: WorkflowSpec) -> list[str]:
    level = max_level(*(KIND_LEVEL[k] for k in spec.allowed_outputs.kinds))
    found = [f"default gate {DEFAULT_GATE[level].value} at level {level.value}"]
    found += [
        f"{rule.gate.value} when {rule.when.model_dump(exclude_none=True)}" for rule in spec.gate
    ]
    if spec.level not in NEVER_AUTO:
        found.append("autopilot may decide without a human once promoted on evidence")
    if spec.mode is Mode.SHADOW:
        found.append("shadow mode: nothing is decided, items are only recorded")
    return found


def _writes(spec: WorkflowSpec) -> list[str]:
    if not spec.writeback.enabled:
        return ["nothing: write-back disabled"]
    found = [f"Salesforce field {name}" for name in spec.allowed_outputs.fields]
    kinds = {k.value for k in spec.allowed_outputs.kinds}
    if "task" in kinds:
        on = ", ".join(spec.allowed_outputs.task_on or ["any record the agent names"])
        found.append(f"Salesforce Task on {on}")
    for name in (spec.writeback.authority_field, spec.writeback.item_field):
        if name:
            found.append(f"Salesforce field {name} (Airlock's stamp)")
    return found or ["nothing in Salesforce"]


def _triggers(spec: WorkflowSpec) -> list[str]:
    found = [f"runs: {spec.trigger}"]
    if spec.callback_url:
        found.append(f"decision webhook to {spec.callback_url}")
    found.append("Slack cards to reviewers, reminders and escalations to managers")
    return found


def spec_sections(spec: WorkflowSpec) -> list[tuple[str, Any]]:
    """The operating spec, section by section, in the order the console shows it."""
    dumped = spec.model_dump(mode="json", exclude_none=True)
    order = [
        "trigger",
        "inputs",
        "task",
        "level",
        "mode",
        "allowed_outputs",
        "gate",
        "checks",
        "writeback",
        "escalation",
        "auto_pause",
        "callback_url",
        "failure_modes",
        "success_metric",
        "owner",
    ]
    shown = [(name, dumped[name]) for name in order if name in dumped]
    shown += [(k, v) for k, v in dumped.items() if k not in order and k not in ("id", "name")]
    return shown
