"""Salesforce failures, classified for the outbox: retryable, auth, limit or fatal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests

ErrorKind = Literal["retryable", "auth", "limit", "fatal"]
_RETRYABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})


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


def classify(error_code: str | None, status: int | None = None) -> ErrorKind:
    """Map a Salesforce error code (and HTTP status, if any) to what the caller should do."""
    if error_code == "REQUEST_LIMIT_EXCEEDED":
        return "limit"
    if error_code in _RETRYABLE_CODES or (status is not None and status >= 500):
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
    kind = classify(code)
    return RecordResult(record_id, False, code, message, kind)


def json_or_text(response: requests.Response) -> Any:
    """The response body as JSON, or as text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text
