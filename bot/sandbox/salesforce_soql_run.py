"""Run a parsed SOQL query over the stand-in's records and shape the rows as the REST API does."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.salesforce.ids import id_key
from bot.sandbox.salesforce_seed import FIELDS, NAME_FIELDS, RELATIONSHIPS, UNFILTERABLE_FIELDS
from bot.sandbox.salesforce_soql import Condition, Scalar, SoqlError, SoqlQuery, instant

Records = Mapping[str, Mapping[str, Mapping[str, Any]]]
Schema = Mapping[str, frozenset[str]]


def _canonical(names: frozenset[str] | Mapping[str, Any], name: str) -> str | None:
    # SOQL names are case-insensitive; answers use the schema's spelling
    return next((known for known in names if known.lower() == name.lower()), None)


def _resolve(sobject: str, path: str, schema: Schema = FIELDS) -> tuple[str, ...]:
    head, _, tail = path.partition(".")
    if not tail:
        field = _canonical(schema[sobject], head)
        if field is None:
            raise SoqlError("INVALID_FIELD", f"No such column '{path}' on entity '{sobject}'")
        return (field,)
    relationship = _canonical(RELATIONSHIPS.get(sobject, {}), head)
    if relationship is None:
        raise SoqlError("INVALID_FIELD", f"Didn't understand relationship '{head}' on {sobject}")
    target = RELATIONSHIPS[sobject][relationship][1]
    if target == "Name":
        field = _canonical(NAME_FIELDS, tail)
        if field is None:  # e.g. Owner.ManagerId on a Lead: the Name object has no ManagerId
            raise SoqlError("INVALID_FIELD", f"No such column '{tail}' on entity 'Name'")
        return (relationship, field)
    return (relationship, *_resolve(target, tail, schema))


def _related(records: Records, target: str, record_id: Any) -> Mapping[str, Any] | None:
    """The record a lookup points at; through a polymorphic Name, a User or a queue."""
    if target != "Name":
        return records.get(target, {}).get(record_id or "")
    for sobject in ("User", "Group"):
        found = records.get(sobject, {}).get(record_id or "")
        if found is not None:
            return {**found, "Type": "User"} if sobject == "User" else found
    return None


def _value(records: Records, sobject: str, row: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    if len(path) == 1:
        return row.get(path[0])
    lookup, target = RELATIONSHIPS[sobject][path[0]]
    related = _related(records, target, row.get(lookup))
    return None if related is None else related.get(path[1])


def _matches(actual: Any, condition: Condition) -> bool:
    """`actual` satisfies the condition: equals one of its values (ids compared in their
    18-character form), differs, or compares (<, <=, >, >=) with its one value."""
    if condition.op in ("=", "!="):
        if isinstance(actual, str) and condition.id_keys:
            # 15 and 18 characters name one record (ID Field Type, SOAP API Developer Guide)
            found = id_key(actual) in condition.id_keys
        else:
            found = any(_equal(actual, value) for value in condition.values)
        return found is (condition.op == "=")
    expected = condition.values[0]
    if isinstance(expected, datetime):
        actual = instant(actual) if isinstance(actual, str) else None
    if actual is None or expected is None or isinstance(actual, bool):
        return False  # null never compares, as in SOQL
    try:
        return bool(_ORDERINGS[condition.op](actual, expected))
    except TypeError:
        return False


_ORDERINGS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _equal(actual: Any, expected: Scalar) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()  # text equality is case-insensitive
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, datetime):
        return isinstance(actual, str) and instant(actual) == expected
    return bool(actual == expected)


def _attributes(sobject: str, record_id: str, version: str) -> dict[str, str]:
    url = f"/services/data/v{version}/sobjects/{sobject}/{record_id}"
    return {"type": sobject, "url": url}


def _shape(
    records: Records,
    sobject: str,
    row: Mapping[str, Any],
    paths: list[tuple[str, ...]],
    version: str,
) -> dict[str, Any]:
    shaped: dict[str, Any] = {"attributes": _attributes(sobject, row["Id"], version)}
    for path in paths:
        if len(path) == 1:
            shaped[path[0]] = row.get(path[0])
            continue
        lookup, target = RELATIONSHIPS[sobject][path[0]]
        related = _related(records, target, row.get(lookup))
        if related is None:
            shaped[path[0]] = None
            continue
        nested = shaped.get(path[0]) or {"attributes": _attributes(target, related["Id"], version)}
        nested[path[1]] = related.get(path[1])
        shaped[path[0]] = nested
    return shaped


def execute(
    query: SoqlQuery, records: Records, version: str, schema: Schema = FIELDS
) -> list[dict[str, Any]]:
    """Run a parsed query over the records (sObject -> id -> fields); answers as the REST API.

    `schema` is the org's field names by sObject (the seed's, plus any custom fields added).
    """
    sobject = _canonical(schema, query.sobject)
    if sobject is None:
        raise SoqlError("INVALID_TYPE", f"sObject type '{query.sobject}' is not supported.")
    paths = [_resolve(sobject, field, schema) for field in query.fields]
    if len(set(paths)) != len(paths):
        raise SoqlError("MALFORMED_QUERY", "duplicate field selected")
    conditions = [(_resolve(sobject, c.field, schema), c) for c in query.conditions]
    for path, _condition in conditions:
        if len(path) == 1 and path[0] in UNFILTERABLE_FIELDS.get(sobject, frozenset()):
            raise SoqlError("INVALID_FIELD", f"field '{path[0]}' can not be filtered in a query")
    rows = [
        row
        for row in records.get(sobject, {}).values()
        if all(_matches(_value(records, sobject, row, path), c) for path, c in conditions)
    ]
    if query.order_by is not None:
        order_path = _resolve(sobject, query.order_by[0], schema)

        def sort_key(row: Mapping[str, Any]) -> tuple[bool, Any]:
            value = _value(records, sobject, row, order_path)
            return (value is not None, value)  # nulls first, as Salesforce sorts by default

        rows.sort(key=sort_key, reverse=query.order_by[1])
    if query.limit is not None:
        rows = rows[: query.limit]
    return [_shape(records, sobject, row, paths, version) for row in rows]
