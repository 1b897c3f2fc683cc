"""A proposed value checked against its Salesforce field's metadata, and numbers compared at scale.

The rules follow what Salesforce refuses on write (REST API Developer Guide, "Valid Date and
DateTime Formats"; SOAP API "Field Types": date `YYYY-MM-DD`, dateTime ISO 8601 with a `T`,
STRING_TOO_LONG over `length`, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST outside a restricted
picklist, NUMBER_OUTSIDE_VALID_RANGE past `precision - scale` integer digits). Extra decimals on a
currency or percent value are not refused: the org keeps or rounds them, and `same_at_scale`
compares at the field's scale so that either way Airlock recognises its own write.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from bot.base.errors import InvalidInput
from bot.base.spec_model import WorkflowSpec
from bot.base.submission import Submission
from bot.salesforce.fields import FieldCatalog, FieldMeta

NUMBER_TYPES = frozenset({"currency", "percent", "double", "int", "long"})
TEXT_TYPES = frozenset(
    {"string", "textarea", "email", "url", "phone", "combobox", "encryptedstring"}
)
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def value_problem(meta: FieldMeta, value: Any) -> str | None:
    """What the field expects, when `value` is not it; None when Salesforce would accept it."""
    if value is None:
        return None if meta.nillable else "is required: send a value, not null"
    kind = meta.type
    if kind == "boolean":
        if isinstance(value, bool) or str(value).lower() in ("true", "false"):
            return None
        return f"expects true or false, not {value!r}"
    if kind == "date":
        return None if _is_date(value) else f"expects a date YYYY-MM-DD, not {value!r}"
    if kind == "datetime":
        if _is_datetime(value):
            return None
        return f"expects an ISO 8601 date-time such as 2026-11-20T15:30:00Z, not {value!r}"
    if kind in NUMBER_TYPES:
        return _number_problem(meta, value)
    if kind in ("picklist", "multipicklist"):
        return _picklist_problem(meta, value)
    if kind in ("reference", "id"):
        ok = isinstance(value, str) and _ID.match(value)
        return None if ok else f"expects a 15- or 18-character Salesforce id, not {value!r}"
    if kind in TEXT_TYPES:
        return _text_problem(meta, value)
    return None


def same_at_scale(meta: FieldMeta | None, current: Any, expected: Any) -> bool:
    """Whether two numbers are equal once rounded to the field's scale (currency, percent).

    Salesforce may store an Airlock write of 1234.567 to a scale-2 field as 1234.57; reading it
    back must not look like someone else's change. Non-numbers and unknown fields: False.
    """
    if meta is None or meta.type not in NUMBER_TYPES:
        return False
    if isinstance(current, bool) or isinstance(expected, bool):
        return False
    try:
        step = Decimal(1).scaleb(-meta.scale)
        left = Decimal(str(current)).quantize(step, ROUND_HALF_UP)
        right = Decimal(str(expected)).quantize(step, ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return False
    return left == right


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str) or not _DATETIME.match(value):
        return False
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00 for fromisoformat
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _number_problem(meta: FieldMeta, value: Any) -> str | None:
    places = f", {meta.scale} decimal places" if meta.scale else ""
    expects = f"expects a number ({meta.type}{places})"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"{expects}, not {value!r}"
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return f"{expects}, not {value!r}"
    if not number.is_finite():
        return f"{expects}, not {value!r}"
    if meta.type in ("int", "long") and number != number.to_integral_value():
        return f"expects a whole number, not {value!r}"
    integer_digits = (meta.digits or meta.precision) - meta.scale
    if integer_digits > 0 and abs(number) >= Decimal(10) ** integer_digits:
        return f"{expects} with at most {integer_digits} digits before the point, not {value!r}"
    return None


def _picklist_problem(meta: FieldMeta, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"expects one of the picklist values as text, not {value!r}"
    if meta.length and len(value) > meta.length:
        return f"expects at most {meta.length} characters, not {len(value)}"
    if not meta.restricted or not meta.picklist:
        return None
    chosen = value.split(";") if meta.type == "multipicklist" else [value]
    unknown = [v for v in chosen if v not in meta.picklist]
    if not unknown:
        return None
    return f"expects one of {', '.join(meta.picklist)}; not {', '.join(map(repr, unknown))}"


def _text_problem(meta: FieldMeta, value: Any) -> str | None:
    if isinstance(value, bool):
        return f"expects text, not {value!r}"
    text = str(value)
    if meta.length and len(text) > meta.length:
        return f"expects at most {meta.length} characters, not {len(text)}"
    return None


def check_submission(sub: Submission, spec: WorkflowSpec, catalog: FieldCatalog) -> None:
    """Refuse (422) allowlisted changes whose values the org's field metadata refuses.

    Only the cache is read: an sObject not described yet is accepted as before.
    """
    errors = []
    allowed = set(spec.allowed_outputs.fields)
    for index, (name, change) in enumerate(zip(sub.qualified_fields(), sub.changes, strict=True)):
        sobject, _, field = name.partition(".")
        if name not in allowed or not catalog.known(sobject):
            continue  # the allowlist check answers for the first; nothing is known of the second
        meta = catalog.field(sobject, field)
        problem: str | None
        if meta is None:
            problem = "does not exist in Salesforce or is hidden from Airlock's integration user"
        elif not meta.updateable:
            problem = "is read-only for Airlock's integration user"
        else:
            problem = value_problem(meta, change.value)
        if problem:
            errors.append({"field": f"changes.{index}.value", "message": f"{name} {problem}"})
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(f"fix these fields: {summary}", errors=errors)
