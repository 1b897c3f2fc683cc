"""Salesforce failures, classified for the outbox: retryable, auth, limit or fatal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests

ErrorKind = Literal["retryable", "auth", "limit", "fatal"]
# Salesforce answers that say "not now" rather than "never", from the REST API's "Status Codes and
# Error Responses" (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm)
# and the StatusCode / ExceptionCode lists of the SOAP API reference:
# - UNABLE_TO_LOCK_ROW: another transaction holds the record (or a parent) locked.
# - QUERY_TIMEOUT: the SOQL query ran out of time; it is a 400, yet the same query succeeds later.
# - UNKNOWN_EXCEPTION: an internal failure, answered per record inside a Collections result.
# - SERVER_UNAVAILABLE: the instance is busy or in maintenance.
_RETRYABLE_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "QUERY_TIMEOUT", "UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE"}
)
# A trigger or flow failed; when what it hit was lock contention, the save succeeds on retry.
_WRAPPING_CODES = frozenset({"CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"})


class SalesforceError(Exception):
    """A failed Salesforce call, classified for the outbox: retryable, auth, limit or fatal."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        detail = error_code or status
        super().__init__(f"{kind} ({detail}): {message}" if detail else f"{kind}: {message}")
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.error_code = error_code


@dataclass(frozen=True)
class RecordResult:
    """The outcome of one record in an sObject Collections call."""

    id: str
    success: bool
    error_code: str | None = None
    message: str | None = None
    kind: ErrorKind | None = None


def classify(error_code: str | None, status: int | None = None, message: str = "") -> ErrorKind:
    """Map a Salesforce error code (and HTTP status and message, if any) to what to do.

    limit: back off for minutes and alert (REQUEST_LIMIT_EXCEEDED, the org's rolling allowance);
    retryable: 5xx, timeouts, lock contention, even when wrapped by a trigger or flow;
    auth: the session expired or was refused (one re-login, then wait);
    fatal: everything else, a refusal retrying cannot change.
    """
    if error_code == "REQUEST_LIMIT_EXCEEDED":
        return "limit"
    if error_code in _RETRYABLE_CODES or (status is not None and status >= 500):
        return "retryable"
    if error_code in _WRAPPING_CODES and "UNABLE_TO_LOCK_ROW" in message:
        return "retryable"
    if status == 401 or error_code == "INVALID_SESSION_ID":
        return "auth"
    return "fatal"


def error_details(content: Any) -> tuple[str | None, str]:
    """The error code (if any) and message from a Salesforce error body."""
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        content = content[0]
    if isinstance(content, Mapping):
        code = content.get("errorCode") or content.get("statusCode") or content.get("error")
        message = content.get("message") or content.get("error_description") or ""
        return (str(code) if code else None), str(message)
    return None, str(content)[:500]


def record_result(record_id: str, result: Mapping[str, Any]) -> RecordResult:
    """One sObject Collections result as a RecordResult, its error classified."""
    if result.get("success"):
        return RecordResult(id=str(result.get("id") or record_id), success=True)
    code, message = error_details(result.get("errors") or [])
    kind = classify(code, None, message)
    return RecordResult(record_id, False, code, message, kind)


def json_or_text(response: requests.Response) -> Any:
    """The response body as JSON, or as text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text
