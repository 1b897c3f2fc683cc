"""The REST errors the stand-in org answers: their body shapes and the canned ones tests provoke."""

from __future__ import annotations

from typing import Any

Answer = tuple[int, Any]


class ApiError(Exception):
    """A REST error: answered as `[{"message", "errorCode", "fields"}]` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or []

    def answer(self) -> Answer:
        """The HTTP status and body Salesforce sends for this error."""
        error = {"message": self.message, "errorCode": self.code}
        return self.status, [{**error, "fields": self.fields} if self.fields else error]

    def record_result(self) -> dict[str, Any]:
        """This error as one record's entry in an sObject Collections answer."""
        error = {"statusCode": self.code, "message": self.message, "fields": self.fields}
        return {"success": False, "errors": [error]}


INVALID_SESSION = ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
NOT_FOUND = ApiError(404, "NOT_FOUND", "The requested resource does not exist")
LOCKED = ApiError(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
LIMITED = ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
# A lock hit inside an Apex trigger reaches the API wrapped in the trigger's own error, e.g.
# "...: execution of AfterUpdate caused by: System.DmlException: Update failed. First exception
# on row 0 ...; first error: UNABLE_TO_LOCK_ROW, ..." (Salesforce Help, knowledge article
# 000229525 "Unable to lock row - Record currently unavailable errors").
TRIGGER_LOCKED = ApiError(
    400,
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
    "AccountRollup: execution of AfterUpdate\n\ncaused by: System.DmlException: Update failed. "
    "First exception on row 0 with id 001Ai0000000001IAA; first error: UNABLE_TO_LOCK_ROW, "
    "unable to obtain exclusive access to this record: []\n\nTrigger.AccountRollup: line 9",
)
UNAVAILABLE = ApiError(503, "SERVER_UNAVAILABLE", "Service temporarily unavailable")
