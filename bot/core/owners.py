"""Workflow owners as Slack user ids, resolved once at start.

A spec may name its owner by email (people know emails, not `U0...` ids), but Slack posts only to
ids (`chat.postMessage` to an email fails with `channel_not_found`) and every permission check
compares Slack ids. So each owner is looked up once, before anything runs; an owner Slack does not
know refuses the start with a message naming the file.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from bot.base.specs import SpecError
from bot.core.runtime import Runtime

log = logging.getLogger(__name__)


class OwnerLookup(Protocol):
    """Finds a person in Slack (the directory in production)."""

    def resolve_owner(self, owner: str) -> str:
        """The owner's Slack user id; ValueError saying why there is none."""
        ...


def resolve_owners(rt: Runtime, people: OwnerLookup) -> None:
    """Replace every spec's owner with its Slack id; SpecError lists each one that fails."""
    errors = []
    for workflow_id, loaded in sorted(rt.specs.specs.items()):
        owner = loaded.spec.owner
        try:
            slack_id = people.resolve_owner(owner)
        except ValueError as problem:
            if "@" not in owner and "unreachable" in str(problem):
                # An id is usable as it is; refusing to start because Slack is down helps nobody.
                log.warning("could not check owner %s of %s: %s", owner, workflow_id, problem)
                continue
            errors.append(
                f"{loaded.path}: owner: {problem}: write the owner's Slack user id (U...) or the "
                "email of their Slack account"
            )
            continue
        if slack_id != owner:
            spec = loaded.spec.model_copy(update={"owner": slack_id})
            # Same file, same version: only how the owner is addressed changed.
            rt.specs.specs[workflow_id] = replace(loaded, spec=spec)
    if errors:
        raise SpecError(errors)
