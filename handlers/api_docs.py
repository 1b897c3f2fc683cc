"""What /openapi.json says each agent endpoint answers: bodies, and every error it really gives.

Errors are RFC 9457 problems (bot.server.problem) served as application/problem+json, so clients
and fuzzers can check every answer against the document, not only the 2xx ones.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.base.submission import Submission

PROBLEM = "application/problem+json"

_WHY: dict[int, str] = {
    400: "The body is not JSON Airlock accepts (malformed, NUL, lone surrogates, too deep).",
    401: "Missing, unknown or revoked agent key.",
    403: "The key is not scoped to the workflow, or the output is outside the workflow's spec.",
    404: "No such workflow or item (an item outside the key's scope answers the same).",
    409: "The idempotency key was used before with a different body.",
    413: "The body is over AIRLOCK_MAX_BODY_BYTES.",
    422: "The request does not match the schema; `errors` lists each field.",
    429: "The key already holds its limit of open long-polls; `Retry-After` says when to retry.",
    503: "The database did not answer (details go to the log, never to the caller); "
    "`Retry-After` says when to retry.",
}
# RFC 9110 section 10.2.3: the seconds to wait before asking again.
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    }
}
RETRY_SECONDS = 5  # a 503's Retry-After: long enough for a database failover to settle


class FieldError(BaseModel):
    """One invalid field of a 422."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, and what to do about it."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class Created(BaseModel):
    """The 201 answer to a submission (a replay repeats it, with `Idempotent-Replayed: true`)."""

    model_config = ConfigDict(extra="allow")

    id: str
    workflow: str
    workflow_version: str
    status: str
    gate: str
    level: str
    checks: list[dict[str, Any]]
    authority: str
    writeback_state: str


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON Schema with its `$defs` written in place.

    pydantic points nested models at `#/$defs/...`, which inside /openapi.json resolves against
    the OpenAPI document's root, where there is no `$defs`: clients and fuzzers could not read
    the schema. The models are not recursive, so inlining terminates.
    """
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return dict(resolve(schema))


INTAKE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": inlined(Submission.model_json_schema())}},
    }
}


def answers(*statuses: int, created: bool = False) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: its errors as problems, and for intake its 201 body.

    Every route reads the database, so every route may answer 503 when it does not answer.
    """
    problem = {PROBLEM: {"schema": inlined(Problem.model_json_schema())}}
    docs: dict[int | str, dict[str, Any]] = {
        status: {"description": _WHY[status], "content": problem} for status in (*statuses, 503)
    }
    for status in (429, 503):
        if status in docs:
            docs[status]["headers"] = _RETRY_AFTER
    if created:
        body = {"application/json": {"schema": inlined(Created.model_json_schema())}}
        docs[201] = {"description": "Stored (or replayed).", "content": body}
    return docs


BEARER = {"agentKey": {"type": "http", "scheme": "bearer", "description": "An agent key"}}


def secure(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the agent key: every /api/v1 operation needs it; ops and console paths do not."""
    document.setdefault("components", {}).setdefault("securitySchemes", {}).update(BEARER)
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            operation["security"] = [{"agentKey": []}]
    return document
