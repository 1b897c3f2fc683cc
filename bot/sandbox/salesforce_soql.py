"""The SOQL subset the sandbox parses (`salesforce_soql_run` runs it): SELECT, FROM, WHERE (=, IN,
comparisons, AND), ORDER BY, LIMIT. Dates and datetimes are unquoted literals, compared as
instants (SOQL and SOSL Reference, "Date Formats and Date Literals":
`CreatedDate > 2005-10-08T01:02:03Z`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from bot.salesforce.ids import id_key

Scalar = str | int | float | bool | datetime | None
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


def instant(text: str) -> datetime | None:
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
            value = instant(text)
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
