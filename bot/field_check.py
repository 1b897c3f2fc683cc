"""Workflows checked against the org's field metadata: at each refresh (owner warned) and on demand.

`refresh` runs on the ticker: at start, then when the cache is older than its max age or was
invalidated by INVALID_FIELD. `check_specs` backs `airlock workflows check --salesforce`.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from bot.base.canonical import canonical_hash
from bot.base.config import Settings
from bot.base.specs import LoadedSpec, line_in_file
from bot.core.effects import NOTIFY
from bot.core.outbox import enqueue
from bot.salesforce.client import SalesforceClient, SalesforceConfig, config_from_settings
from bot.salesforce.fields import FieldCatalog, FieldProblem, sobjects_of, spec_problems

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bot.core.runtime import Runtime


def refresh(rt: Runtime, now: datetime | None = None) -> bool:
    """Describe the sObjects that are due; DM each owner whose workflow names unusable fields.

    Also checks again after a spec reload. Returns whether anything was described or checked.
    A failed describe is logged and retried at the next tick.
    """
    now = now or rt.clock()
    specs = list(rt.specs.specs.values())
    versions = frozenset((loaded.id, loaded.version) for loaded in specs)
    due = rt.fields.due(sobjects_of(loaded.spec for loaded in specs), now)
    if rt.fields.client is None or not (due or versions != rt.fields.checked_specs):
        return False
    rt.fields.refresh(due, now)
    warn_owners(rt, specs)
    rt.fields.checked_specs = versions
    return True


def warn_owners(rt: Runtime, specs: Iterable[LoadedSpec]) -> int:
    """Queue one warning DM per workflow and distinct set of problems; returns how many."""
    queued = 0
    with rt.db.write() as session:
        for loaded in specs:
            problems = spec_problems(loaded.spec, rt.fields)
            if not problems:
                continue
            lines = [str(problem) for problem in problems]
            enqueue(
                session,
                kind=NOTIFY,
                # once per spec version and set of problems: a restart does not repeat it
                dedupe_key=f"fields:{loaded.id}:{loaded.version}:{canonical_hash(lines)[:16]}",
                payload={"to": loaded.spec.owner, "text": warning_text(loaded, lines)},
                workflow_id=loaded.id,
                pausable=False,
            )
            queued += 1
    if queued:
        rt.kick()
    return queued


def warning_text(loaded: LoadedSpec, lines: list[str]) -> str:
    """The owner's DM: which fields, why, and how to see the details."""
    listed = "\n".join(f"• {line}" for line in lines)
    return (
        f":warning: Workflow `{loaded.id}` ({loaded.path.name}) names Salesforce fields that "
        f"Airlock's integration user cannot use:\n{listed}\n"
        "Until the org or the spec is fixed, intake refuses changes to an allowlisted field "
        "listed here, and writes that stamp a listed provenance field fail. "
        "Details: `airlock workflows check --salesforce`."
    )


def check_specs(specs: Iterable[LoadedSpec], catalog: FieldCatalog) -> list[str]:
    """Describe every sObject the specs name; one line per problem, naming file, line, field."""
    specs = list(specs)
    errors = catalog.refresh(sobjects_of(loaded.spec for loaded in specs))
    lines = [
        f"Salesforce: describe {sobject} failed: {error}"
        for sobject, error in sorted(errors.items())
        if not catalog.known(sobject)  # a 404 is reported below as missing fields
    ]
    for loaded in specs:
        lines.extend(_located(loaded, problem) for problem in spec_problems(loaded.spec, catalog))
    return lines


def _located(loaded: LoadedSpec, problem: FieldProblem) -> str:
    line = line_in_file(loaded.path, problem.where.split("."), problem.field)
    return f"{loaded.path}:{line}: {problem.where}: {problem.field} {problem.message}"


@contextmanager
def salesforce_client(settings: Settings) -> Iterator[SalesforceClient]:
    """A client for the configured org, or for a fresh local stand-in when none is configured."""
    from bot.sandbox.boot import start_sandbox

    box = start_sandbox(slack=False, salesforce=settings.salesforce_sandbox)
    try:
        if box.salesforce:
            url, token = box.salesforce.instance_url, box.salesforce_token
            config = SalesforceConfig(instance_url=url, access_token=token)
        else:
            config = config_from_settings(settings)
        client = SalesforceClient(config)
        try:
            yield client
        finally:
            client.close()
    finally:
        box.stop()
