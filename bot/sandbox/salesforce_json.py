"""What Salesforce refuses before it looks at any record: a request body it cannot deserialize.

Salesforce maps a JSON body onto typed sObject fields before saving anything, so an unknown field
or a value that is not of the field's type fails the WHOLE request with HTTP 400, not one record
of an sObject Collections answer ("If the request isn't well formed, the API returns a 400 Bad
Request HTTP Status", REST API Developer Guide, "Update Records Using sObject Collections",
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/
resources_composite_sobjects_collections_update.htm):
- an unknown (or hidden) field: `INVALID_FIELD`, "No such column 'X' on sobject of type Y";
- a date, datetime, number or boolean it cannot read: `JSON_PARSER_ERROR`, "Cannot deserialize
  instance of date from VALUE_STRING value 2019-11-26 00:00:00 or request may be missing a
  required field at [line:1, column:N]" (the message names the value, not the field; reported
  verbatim in SalesforceFoundation/gem issue 246).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_NUMBER_TYPES = frozenset({"currency", "percent", "double", "int"})
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


class BodyError(Exception):
    """The request-level refusal: an error code and Salesforce's message."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def check_body(sobject: str, types: Mapping[str, str], fields: Mapping[str, Any]) -> None:
    """Raise BodyError for the first field Salesforce could not map onto the sObject; `types`
    holds the type (as describe() spells it) of every field the integration user can see."""
    for name, value in fields.items():
        kind = types.get(name)
        if kind is None:
            message = f"No such column '{name}' on sobject of type {sobject}"
            raise BodyError("INVALID_FIELD", message, name)
        if value is not None and not _readable(kind, value):
            java = "double" if kind in _NUMBER_TYPES else kind
            message = (
                f"Cannot deserialize instance of {java} from {_token(value)} value {value} "
                "or request may be missing a required field"
            )
            raise BodyError("JSON_PARSER_ERROR", message, name)


def _readable(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false")
    if kind in _NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return False
        try:
            return Decimal(str(value)).is_finite()
        except InvalidOperation:
            return False
    if kind == "date":
        return isinstance(value, str) and _parses(date.fromisoformat, value, 10)
    if kind == "datetime":
        return (
            isinstance(value, str)
            and bool(_DATETIME.fullmatch(value))
            and _parses(datetime.fromisoformat, value.replace("Z", "+00:00"), None)
        )
    return not isinstance(value, dict | list)


def _parses(parse: Any, text: str, length: int | None) -> bool:
    if length is not None and len(text) != length:
        return False
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _token(value: Any) -> str:
    """The JSON token Salesforce's parser names in its message."""
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_STRING"
