"""The runtime: settings, database and specs, wired once and shared by every way in."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.base.config import Settings
from bot.base.db import Database
from bot.base.errors import NotFound
from bot.base.metrics import Metrics
from bot.base.specs import LoadedSpec, SpecError, SpecSet, load_specs
from bot.core.registry import sync_workflows
from bot.core.waiting import WaitLimiter
from bot.salesforce.fields import FieldCatalog
from bot.salesforce.record_check import RecordCheck
from models.types import utcnow

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What every handler needs; `kick` wakes the workers right after a commit.

    `clock` is the time timers are anchored on (intake, release on resume, sweeps); tests pass a
    fixed clock so that nothing depends on the real date.
    """

    settings: Settings
    db: Database
    specs: SpecSet
    kick: Callable[[], None] = field(default=lambda: None)
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = field(default=utcnow)
    fields: FieldCatalog = field(default_factory=FieldCatalog)  # Salesforce describe cache
    records: RecordCheck = field(default_factory=RecordCheck)  # do named records exist?
    waits: WaitLimiter = field(default_factory=WaitLimiter)  # long-polls open per agent key

    def spec(self, workflow_id: str) -> LoadedSpec:
        """The loaded spec of a workflow, or NotFound listing the ones that exist."""
        loaded = self.specs.get(workflow_id)
        if loaded is None:
            known = ", ".join(sorted(self.specs.specs)) or "none"
            raise NotFound(f"unknown workflow {workflow_id!r} (loaded workflows: {known})")
        return loaded


def open_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Connect, migrate, load and register the workflow specs; refuse to start on bad specs."""
    # Specs first: a missing or broken workflows folder creates no database and runs no migration.
    specs = load_specs(settings.workflows_dir)
    if specs.errors:
        raise SpecError(specs.errors)
    db = Database(settings.database_url, settings.audit_key_value)
    if migrate:
        db.upgrade()
    changed = sync_workflows(db, specs)
    if changed:
        log.info("workflow specs loaded: %s", ", ".join(changed))
    return Runtime(settings=settings, db=db, specs=specs)
