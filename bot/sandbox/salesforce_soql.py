"""The SOQL subset the sandbox answers: SELECT, FROM, WHERE (=, IN, comparisons, AND), ORDER BY,
LIMIT. Dates and datetimes are unquoted literals, compared as instants (SOQL and SOSL Reference,
"Date Formats and Date Literals": `CreatedDate > 2005-10-08T01:02:03Z`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from bot.salesforce.ids import id_key
from bot.sandbox.salesforce_seed import (
    FIELDS,
    NAME_FIELDS,
    RELATIONSHIPS,
    UNFILTERABLE_FIELDS,
)

Scalar = str | int | float | bool | datetime | None
Records = Mapping[str, Mapping[str, Mapping[str, Any]]]
Schema = Mapping[str, frozenset[str]]
SUPPORTED = (
    "the sandbox supports SELECT fields FROM object [WHERE f = v AND f IN (v, ...) AND f >= v] "
    "[ORDER BY f [ASC|DESC]] [LIMIT n]"
)
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')"
    r"|(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?P<number>-?\d+(?:\.\d+)?(?![\w-]))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)|(?P<symbol>[<>!]=|[=(),<>]))"
)
_SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_LITERAL_NAMES: dict[str, Scalar] = {"true": True, "false": False, "null": None}
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})


def _instant(text: str) -> datetime | None:
    """A SOQL datetime literal or a stored datetime ("...+0000"), as an aware instant."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SoqlError(Exception):
    """A query the sandbox refuses, with the Salesforce error code to answer."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class Condition:
    """`field = value` (one value), `field IN (values)`, or `field >= value` (any of <>! =)."""

    field: str
    values: tuple[Scalar, ...]
    op: str = "="

    @cached_property
    def id_keys(self) -> frozenset[str]:
        """The values as 18-character ids, when the field is an id and every value one."""
        if not self.field.endswith("Id") or not self.values:
            return frozenset()
        if not all(isinstance(v, str) and _SALESFORCE_ID.fullmatch(v) for v in self.values):
            return frozenset()
        return frozenset(id_key(str(v)) for v in self.values)


@dataclass(frozen=True)
class SoqlQuery:
    """A parsed query; field names as written, resolved against the schema on execution."""

    sobject: str
    fields: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    order_by: tuple[str, bool] | None = None  # (field, descending)
    limit: int | None = None


def _tokenize(soql: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    while soql[position:].strip():
        match = _TOKEN.match(soql, position)
        if match is None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected {soql[position:].strip()[:20]!r}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "string":
            value: Any = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text[1:-1])
        elif kind == "number":
            value = float(text) if "." in text else int(text)
        elif kind == "datetime":
            value = _instant(text)
        else:
            value = text
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, soql: str) -> None:
        self.tokens = _tokenize(soql)
        self.position = 0

    def peek_keyword(self, keyword: str) -> bool:
        if self.position >= len(self.tokens):
            return False
        kind, value = self.tokens[self.position]
        return kind == "name" and str(value).upper() == keyword

    def keyword(self, keyword: str) -> None:
        if not self.peek_keyword(keyword):
            raise SoqlError("MALFORMED_QUERY", f"expected {keyword} at {self.where()}; {SUPPORTED}")
        self.position += 1

    def take(self, kind: str, symbol: str | None = None) -> Any:
        if self.position < len(self.tokens):
            token_kind, value = self.tokens[self.position]
            if token_kind == kind and symbol in (None, value):
                self.position += 1
                return value
        raise SoqlError("MALFORMED_QUERY", f"unexpected {self.where()}; {SUPPORTED}")

    def literal(self) -> Scalar:
        kind, value = self.tokens[self.position] if self.position < len(self.tokens) else ("", "")
        if kind in ("string", "number", "datetime"):
            self.position += 1
            return value
        if kind == "name" and str(value).lower() in _LITERAL_NAMES:
            self.position += 1
            return _LITERAL_NAMES[str(value).lower()]
        raise SoqlError("MALFORMED_QUERY", f"expected a literal value at {self.where()}")

    def condition(self) -> Condition:
        field = self.take("name")
        if self.peek_keyword("IN"):
            self.position += 1
            self.take("symbol", "(")
            values = [self.literal()]
            while self.tokens[self.position : self.position + 1] == [("symbol", ",")]:
                self.position += 1
                values.append(self.literal())
            self.take("symbol", ")")
            return Condition(field, tuple(values))
        op = self.take("symbol")
        if op not in _COMPARISONS:
            raise SoqlError("MALFORMED_QUERY", f"unexpected {op!r} after {field}; {SUPPORTED}")
        return Condition(field, (self.literal(),), op)

    def where(self) -> str:
        """Describe the current position for an error message."""
        if self.position >= len(self.tokens):
            return "end of query"
        return f"{self.tokens[self.position][1]!r}"


def parse(soql: str) -> SoqlQuery:
    """Parse the supported SOQL subset; raise SoqlError(MALFORMED_QUERY) for anything else."""
    parser = _Parser(soql)
    parser.keyword("SELECT")
    fields = [parser.take("name")]
    while parser.tokens[parser.position : parser.position + 1] == [("symbol", ",")]:
        parser.position += 1
        fields.append(parser.take("name"))
    parser.keyword("FROM")
    sobject = parser.take("name")
    conditions = []
    if parser.peek_keyword("WHERE"):
        parser.position += 1
        conditions.append(parser.condition())
        while parser.peek_keyword("AND"):
            parser.position += 1
            conditions.append(parser.condition())
    order_by = None
    if parser.peek_keyword("ORDER"):
        parser.position += 1
        parser.keyword("BY")
        order_field = parser.take("name")
        descending = parser.peek_keyword("DESC")
        if descending or parser.peek_keyword("ASC"):
            parser.position += 1
        order_by = (order_field, descending)
    limit = None
    if parser.peek_keyword("LIMIT"):
        parser.position += 1
        limit = parser.take("number")
        if not isinstance(limit, int) or limit < 0:
            raise SoqlError("MALFORMED_QUERY", f"LIMIT must be a whole number, not {limit}")
    if parser.position != len(parser.tokens):
        raise SoqlError("MALFORMED_QUERY", f"unexpected {parser.where()}; {SUPPORTED}")
    return SoqlQuery(sobject, tuple(fields), tuple(conditions), order_by, limit)


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
        actual = _instant(actual) if isinstance(actual, str) else None
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
        return isinstance(actual, str) and _instant(actual) == expected
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
