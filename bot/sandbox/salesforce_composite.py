"""The stand-in's sObject Collections resource: up to 200 records created or updated in one call."""

from __future__ import annotations

from typing import Any, Protocol

from bot.salesforce.ids import id_key
from bot.sandbox.salesforce_api_errors import Answer, ApiError

COMPOSITE_LIMIT = 200


class Store(Protocol):
    """What a collection call needs of the record store."""

    records: dict[str, dict[str, dict[str, Any]]]
    schema: dict[str, frozenset[str]]

    def sobject(self, name: str) -> str: ...
    def existing(self, sobject: str, record_id: str) -> dict[str, Any]: ...
    def check_fields(self, sobject: str, fields: dict[str, Any]) -> None: ...
    def check_body(self, sobject: str, fields: dict[str, Any]) -> None: ...
    def insert(self, sobject: str, fields: dict[str, Any], *, log: bool = True) -> str: ...
    def update(self, sobject: str, record: dict[str, Any], fields: dict[str, Any]) -> None: ...


def _record_id(record: dict[str, Any]) -> str:
    # Salesforce accepts 15- and 18-character ids alike; records are kept by the 18-character one
    return id_key(str(record.get("id") or record.get("Id") or ""))


def _fields_of(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in ("attributes", "id", "Id")}


def composite(store: Store, method: str, body: Any) -> Answer:
    """Answer an sObject Collections call: up to 200 records updated (PATCH) or created (POST)."""
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", 'expected {"allOrNone": ..., "records": [...]}')
    records = body["records"]
    if len(records) > COMPOSITE_LIMIT:
        message = "record limit reached. cannot submit more than 200 records into this call"
        raise ApiError(400, "EXCEEDED_ID_LIMIT", message)
    for record in records:
        # the body is mapped onto typed records before any is saved: one bad one fails all
        if isinstance(record, dict) and isinstance(record.get("attributes"), dict):
            sobject = str(record["attributes"].get("type"))
            if sobject in store.schema:
                store.check_body(sobject, _fields_of(record))
    errors = [_composite_error(store, method, record) for record in records]
    if body.get("allOrNone") and any(errors):
        rolled_back = ApiError(400, "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back")
        return 200, [(error or rolled_back).record_result() for error in errors]
    results = []
    for record, error in zip(records, errors, strict=True):
        if error is not None:
            results.append(error.record_result())
            continue
        sobject, fields = record["attributes"]["type"], _fields_of(record)
        if method == "PATCH":
            record_id = _record_id(record)
            store.update(sobject, store.records[sobject][record_id], fields)
        else:
            record_id = store.insert(sobject, fields)
        results.append({"id": record_id, "success": True, "errors": []})
    return 200, results


def _composite_error(store: Store, method: str, record: Any) -> ApiError | None:
    try:
        if not isinstance(record, dict) or not isinstance(record.get("attributes"), dict):
            raise ApiError(400, "INVALID_TYPE", "Must specify a type in attributes")
        sobject = store.sobject(str(record["attributes"].get("type")))
        store.check_fields(sobject, _fields_of(record))
        if method == "PATCH":
            store.existing(sobject, _record_id(record))
        elif _record_id(record):
            raise ApiError(400, "INVALID_FIELD", "cannot specify Id in an insert call")
    except ApiError as error:
        return error
    return None
