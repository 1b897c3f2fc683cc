"""Keep the workflow table in step with the spec files: versions, owners, pause state."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.base.db import Database
from bot.base.specs import LoadedSpec, SpecSet
from bot.core.lifecycle import append_workflow_event
from models import Workflow, WorkflowVersion


def sync_workflows(db: Database, specs: SpecSet, attempts: int = 3) -> list[str]:
    """Store each spec's current version; returns the ids whose version changed.

    Replicas starting together race to insert the same rows; the loser sees an IntegrityError,
    rolls back, and finds the rows already there on its next attempt.
    """
    for attempt in range(1, attempts + 1):
        try:
            with db.write() as session:
                return [loaded.id for loaded in specs.specs.values() if _sync_one(session, loaded)]
        except IntegrityError:
            if attempt == attempts:
                raise
    return []


def _sync_one(session: Session, loaded: LoadedSpec) -> bool:
    spec_json = loaded.spec.model_dump(mode="json")
    row = session.get(Workflow, loaded.id)
    if row is not None and row.version == loaded.version:
        return False
    if session.get(WorkflowVersion, (loaded.id, loaded.version)) is None:
        session.add(WorkflowVersion(workflow_id=loaded.id, version=loaded.version, spec=spec_json))
    previous = row.version if row else None
    if row is None:
        row = Workflow(id=loaded.id, name="", owner="", level="", mode="", version="")
    row.name, row.owner = loaded.spec.name, loaded.spec.owner
    row.level, row.mode = loaded.spec.level.value, loaded.spec.mode.value
    row.version, row.spec, row.path = loaded.version, spec_json, str(loaded.path)
    revoked, row.mode_override = row.mode_override, None
    session.add(row)
    session.flush()
    if revoked:
        # A promotion (or demotion) was earned under the old spec: the new one starts from its
        # own `mode` until someone promotes it again.
        append_workflow_event(
            session,
            loaded.id,
            "demoted" if revoked == "autopilot" else "override_cleared",
            "system",
            {"reason": f"spec changed to version {loaded.version}", "was": revoked},
        )
    append_workflow_event(
        session,
        loaded.id,
        "spec_loaded",
        "system",
        {"version": loaded.version, "previous": previous, "path": str(loaded.path)},
    )
    return True
