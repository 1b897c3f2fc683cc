"""Record rules of the stand-in org beyond field names: Task relations and picklist defaults."""

from __future__ import annotations

from typing import Any

from bot.sandbox.salesforce_seed import KEY_PREFIXES

# Task.WhoId is a person (Lead or Contact); Task.WhatId is anything else (Account, Opportunity,
# Case, custom objects). A person's id in WhatId, or a thing's in WhoId, is refused with
# FIELD_INTEGRITY_EXCEPTION (Object Reference, "Task": WhoId, WhatId).
_WHO_PREFIXES = frozenset({KEY_PREFIXES["Lead"], KEY_PREFIXES["Contact"]})
_WHAT_PREFIXES = frozenset(
    KEY_PREFIXES[name] for name in ("Account", "Opportunity", "Case") if name in KEY_PREFIXES
)
# The org's default picklist values, applied when an insert leaves the field out, as Salesforce
# does (a Task needs Status and Priority; the org's defaults fill them in).
PICKLIST_DEFAULTS: dict[str, dict[str, str]] = {
    "Task": {"Status": "Not Started", "Priority": "Normal"},
}


class RuleError(Exception):
    """A record Salesforce refuses: error code, message and the fields at fault."""

    def __init__(self, code: str, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields


def check_relations(sobject: str, fields: dict[str, Any]) -> None:
    """Refuse a Task whose WhoId is not a Lead or Contact, or whose WhatId is one."""
    if sobject != "Task":
        return
    for name, label, allowed in (
        ("WhoId", "Name ID", _WHO_PREFIXES),
        ("WhatId", "Related To ID", _WHAT_PREFIXES),
    ):
        value = fields.get(name)
        if value and str(value)[:3] not in allowed:
            message = f"{label}: id value of incorrect type: {value}"
            raise RuleError("FIELD_INTEGRITY_EXCEPTION", message, [name])


def with_defaults(
    sobject: str, fields: dict[str, Any], defaults: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """`fields` with the org's default picklist values for the fields an insert left out."""
    missing = {k: v for k, v in defaults.get(sobject, {}).items() if fields.get(k) is None}
    return missing | fields
