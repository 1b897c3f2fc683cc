"""The stand-in org's records and REST resources (sObjects, SOQL; collections in a sibling)."""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.salesforce.ids import id_key
from bot.sandbox.salesforce_api_errors import NOT_FOUND, Answer, ApiError
from bot.sandbox.salesforce_composite import composite
from bot.sandbox.salesforce_describe import FieldValueError, check_values, describe_answer, rounded
from bot.sandbox.salesforce_json import BodyError, check_body
from bot.sandbox.salesforce_rules import (
    PICKLIST_DEFAULTS,
    RuleError,
    check_relations,
    with_defaults,
)
from bot.sandbox.salesforce_schema import CUSTOM_TEXT, METADATA, FieldSpec
from bot.sandbox.salesforce_seed import (
    FIELDS,
    KEY_PREFIXES,
    SEED_PEOPLE,
    auto_number,
    build_seed,
    make_id,
)
from bot.sandbox.salesforce_soql import SoqlError, parse
from bot.sandbox.salesforce_soql_run import execute

_API_USER = SEED_PEOPLE[0].salesforce_id  # the integration user every API token acts as
_SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


@dataclass(frozen=True)
class AppliedWrite:
    """One insert or update the org applied (tests count these to prove exactly-once)."""

    method: str  # "POST" (insert) or "PATCH" (update)
    sobject: str
    id: str
    fields: dict[str, Any]


class RecordStore:
    """Records by sObject and id, a per-org schema, query cursors and a log of applied writes."""

    def __init__(self, seed: bool = True) -> None:
        self.lock = threading.RLock()
        # every field of the org, and the names the integration user can see (`schema`)
        self.metadata: dict[str, dict[str, FieldSpec]] = {s: dict(f) for s, f in METADATA.items()}
        self.schema: dict[str, frozenset[str]] = dict(FIELDS)
        self.round_on_write = True
        self.records = build_seed() if seed else {sobject: {} for sobject in FIELDS}
        self.applied: list[AppliedWrite] = []
        self.picklist_defaults = {name: dict(f) for name, f in PICKLIST_DEFAULTS.items()}
        self.page_size = 2000
        self._deleted: set[str] = set()
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self._numbers = itertools.count(1000)
        self._last_stamp = datetime.min.replace(tzinfo=UTC)

    def next_number(self) -> int:
        """A fresh sequence number (ids, tokens, cursors)."""
        return next(self._numbers)

    def add_field(self, sobject: str, name: str, spec: FieldSpec = CUSTOM_TEXT) -> None:
        """Declare a custom field (e.g. Airlock_Authority__c) on an sObject of this org."""
        with self.lock:
            self.schema[self.sobject(sobject)] = self.schema[sobject] | {name}
            self.metadata[sobject][name] = spec
            for record in self.records[sobject].values():
                record.setdefault(name, None)

    def hide_field(self, sobject: str, name: str) -> None:
        """Field-level security: the integration user no longer sees the field (values are kept)."""
        with self.lock:
            self.schema[self.sobject(sobject)] = self.schema[sobject] - {name}

    def describe(self, sobject: str, version: str) -> Answer:
        """sObject Describe: the metadata of the fields the integration user can see."""
        visible = {name: self.metadata[sobject][name] for name in self.schema[sobject]}
        return 200, describe_answer(sobject, KEY_PREFIXES.get(sobject), visible, version)

    def set_field(
        self, sobject: str, record_id: str, field: str, value: Any, by: str | None = None
    ) -> None:
        """Change a field as a person editing the record would (stamps it, logs no API write):
        `by` (a User id), else the record's owner, else the first rep."""
        with self.lock:
            record = self.records[sobject][record_id]
            record[field] = value
            record["LastModifiedDate"] = record["SystemModstamp"] = self._tick()
            if "LastModifiedById" in record:
                owner = record.get("OwnerId")
                person = (
                    owner if str(owner or "").startswith("005") else SEED_PEOPLE[1].salesforce_id
                )
                record["LastModifiedById"] = by or person

    def resource(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        """Answer a data API call under /services/data/vXX.X/."""
        version, _, resource = path.removeprefix("/services/data/v").partition("/")
        head, *rest = resource.strip("/").split("/")
        with self.lock:
            if head in ("query", "queryAll") and method == "GET":
                return self._query_more(rest[0], version) if rest else self._query(query, version)
            if [head, *rest] == ["composite", "sobjects"] and method in ("PATCH", "POST"):
                return composite(self, method, body)
            if head == "sobjects" and len(rest) == 1 and method == "POST":
                fields = body if isinstance(body, dict) else {}
                self.check_fields(self.sobject(rest[0]), fields)
                self.check_body(self.sobject(rest[0]), fields)
                return 201, {"id": self.insert(rest[0], fields), "success": True, "errors": []}
            if head == "sobjects" and rest[1:] == ["describe"] and method == "GET":
                return self.describe(self.sobject(rest[0]), version)
            if head == "sobjects" and len(rest) == 2:
                return self._record(method, self.sobject(rest[0]), rest[1], query, body, version)
        raise NOT_FOUND

    def _record(
        self, method: str, sobject: str, rid: str, query: dict[str, str], body: Any, version: str
    ) -> Answer:
        rid = id_key(rid)
        record = self.existing(sobject, rid)
        if method == "GET":
            names = (
                [name.strip() for name in query["fields"].split(",")] if "fields" in query else []
            )
            for name in names:
                if name not in self.schema[sobject]:
                    raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on {sobject}")
            url = f"/services/data/v{version}/sobjects/{sobject}/{rid}"
            shown = {name: record.get(name) for name in names} if names else record
            return 200, {"attributes": {"type": sobject, "url": url}, **shown}
        if method == "PATCH":
            fields = body if isinstance(body, dict) else {}
            self.check_fields(sobject, fields)
            self.check_body(sobject, fields)
            self.update(sobject, record, fields)
            return 204, None
        if method == "DELETE":
            del self.records[sobject][rid]
            self._deleted.add(rid)
            return 204, None
        message = f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE"
        raise ApiError(405, "METHOD_NOT_ALLOWED", message)

    def _query(self, query: dict[str, str], version: str) -> Answer:
        if not query.get("q"):
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            rows = execute(parse(query["q"]), self.records, version, self.schema)
        except SoqlError as error:
            raise ApiError(400, error.error_code, error.message) from error
        return 200, self._page(rows, 0, version)

    def _query_more(self, cursor: str, version: str) -> Answer:
        rows = self._cursors.pop(cursor, None)
        if rows is None:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self._page(rows, int(cursor.rpartition("-")[2]), version)

    def _page(self, rows: list[dict[str, Any]], offset: int, version: str) -> dict[str, Any]:
        end = offset + self.page_size
        page = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[offset:end]}
        if end < len(rows):
            cursor = f"01gAi{self.next_number():010d}-{end}"
            self._cursors[cursor] = rows
            page["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor}"
        return page

    def sobject(self, name: str) -> str:
        """The sObject name if this org has it, else the 404 Salesforce answers."""
        if name not in self.schema:
            raise ApiError(404, "NOT_FOUND", f"sObject type '{name}' is not supported.")
        return name

    def existing(self, sobject: str, record_id: str) -> dict[str, Any]:
        """The record, else the error Salesforce answers for a deleted, missing or malformed id."""
        record = self.records[sobject].get(record_id)
        if record is not None:
            return record
        if record_id in self._deleted:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        if not record_id:
            raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
        if not _SALESFORCE_ID.fullmatch(record_id):
            raise ApiError(
                400, "MALFORMED_ID", f"Record ID: id value of incorrect type: {record_id}"
            )
        raise NOT_FOUND

    def check_fields(self, sobject: str, fields: dict[str, Any]) -> None:
        """Refuse unknown and read-only fields, and values the field's metadata refuses."""
        specs = self.metadata[sobject]
        for name in fields:
            if name not in self.schema[sobject]:
                message = f"No such column '{name}' on sobject of type {sobject}"
                raise ApiError(400, "INVALID_FIELD", message, [name])
            if not (specs[name].updateable or specs[name].createable):
                message = f"Unable to create/update fields: {name}."
                raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", message, [name])
        try:
            check_values(fields, specs)
        except FieldValueError as error:
            raise ApiError(400, error.code, error.message, [error.field]) from None
        try:
            check_relations(sobject, fields)
        except RuleError as error:
            raise ApiError(400, error.code, error.message, error.fields) from error

    def _stored(self, sobject: str, fields: dict[str, Any]) -> dict[str, Any]:
        return rounded(fields, self.metadata[sobject]) if self.round_on_write else dict(fields)

    def check_body(self, sobject: str, fields: dict[str, Any]) -> None:
        """Refuse the whole request for a field or value Salesforce cannot deserialize."""
        try:
            visible = {name: self.metadata[sobject][name].type for name in self.schema[sobject]}
            check_body(sobject, visible, fields)
        except BodyError as error:
            raise ApiError(400, error.code, error.message) from None

    def insert(self, sobject: str, fields: dict[str, Any], *, log: bool = True) -> str:
        """Create a record (the caller checked the fields) and return its id."""
        number = self.next_number()
        record_id = make_id(sobject, number)
        record: dict[str, Any] = dict.fromkeys(self.schema[sobject])
        record.update(auto_number(sobject, number))
        if "OwnerId" in record:
            record["OwnerId"] = SEED_PEOPLE[0].salesforce_id  # the integration (admin) user
        stamp = self._tick()
        fields = self._stored(sobject, fields)
        record.update(with_defaults(sobject, fields, self.picklist_defaults))
        record.update(Id=record_id, CreatedDate=stamp, LastModifiedById=_API_USER)
        record["LastModifiedDate"] = record["SystemModstamp"] = stamp
        self.records[sobject][record_id] = record
        if log:
            self.applied.append(AppliedWrite("POST", sobject, record_id, dict(fields)))
        return record_id

    def update(self, sobject: str, record: dict[str, Any], fields: dict[str, Any]) -> None:
        """Apply checked fields to a record: stamp it and log the write."""
        fields = self._stored(sobject, fields)
        record.update(fields)
        record["LastModifiedDate"] = record["SystemModstamp"] = self._tick()
        if "LastModifiedById" in record:  # API calls act as the integration user
            record["LastModifiedById"] = _API_USER
        self.applied.append(AppliedWrite("PATCH", sobject, record["Id"], dict(fields)))

    def _tick(self) -> str:
        # Strictly increasing, so every write moves SystemModstamp even within one millisecond.
        now = max(datetime.now(UTC), self._last_stamp + timedelta(milliseconds=1))
        self._last_stamp = now.replace(microsecond=now.microsecond // 1000 * 1000)
        return self._last_stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
