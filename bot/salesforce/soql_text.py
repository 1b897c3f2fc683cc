"""SOQL and request text built safely: literals escaped, names checked, records shaped."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
SOBJECT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# at most one relationship hop, e.g. Owner.Email
FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?")
_SOQL_ESCAPES = str.maketrans(
    {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b"}
)
SoqlValue = str | int | float | bool | None


def soql_literal(value: SoqlValue) -> str:
    """Render a value as a SOQL literal, escaping strings so they cannot change the query."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format(Decimal(repr(value)), "f")  # SOQL has no exponent notation
    return "'" + value.translate(_SOQL_ESCAPES) + "'"


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal (unquoted, UTC), e.g. 2026-11-28T09:30:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def checked_name(name: str, pattern: re.Pattern[str], what: str) -> str:
    """`name` if it fully matches `pattern`; otherwise ValueError naming `what` it is not."""
    # names are spliced into SOQL and URLs, so only plain identifiers may pass
    if not pattern.fullmatch(name):
        raise ValueError(f"not {what}: {name!r}")
    return name


def select_clause(sobject: str, fields: Iterable[str]) -> tuple[list[str], str]:
    """The checked field names (Id first) and "SELECT ... FROM sobject"."""
    names = list(dict.fromkeys(["Id", *fields]))  # SOQL refuses a field selected twice
    for name in names:
        checked_name(name, FIELD_NAME, "a field name")
    sobject = checked_name(sobject, SOBJECT_NAME, "an sObject name")
    return names, f"SELECT {', '.join(names)} FROM {sobject}"


def collection_body(
    sobject: str, records: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Record ids and the sObject Collections body for updating `records`."""
    attributes = {"type": checked_name(sobject, SOBJECT_NAME, "an sObject name")}
    ids, body = [], []
    for record in records:
        record_id = str(record.get("Id") or record.get("id") or "")
        if not record_id:
            raise ValueError(f"record without an Id: {dict(record)!r}")
        fields = {k: v for k, v in record.items() if k not in ("Id", "id", "attributes")}
        ids.append(record_id)
        body.append({"attributes": attributes, "id": record_id, **fields})
    return ids, body


def flatten(record: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The value of each (possibly dotted) name in a queried record."""
    flat: dict[str, Any] = {}
    for name in names:
        value: Any = record
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        flat[name] = value
    return flat
