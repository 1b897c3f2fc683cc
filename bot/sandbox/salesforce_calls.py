"""One call to the Salesforce stand-in: its kind, its parsed body and the faults it meets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.salesforce_api_errors import ApiError
from bot.sandbox.salesforce_seed import SEED_PEOPLE

FAULTS = frozenset({"503", "timeout", "lock", "trigger_lock", "401", "limit"})
MATCHES = frozenset({"composite", "query", "sobjects", "token", "limits", "*"})
_KINDS = {"composite": "composite", "query": "query", "queryAll": "query", "sobjects": "sobjects"}
_KINDS |= {"limits": "limits"}


@dataclass(frozen=True)
class StandinCall:
    """One request the stand-in answered (body: parsed JSON, or the form of a token request)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class Fault:
    """A fault to answer the next `remaining` calls of kind `match` with ("*": all but logins)."""

    fault: str
    remaining: int
    match: str


def kind_of(path: str) -> str:
    """Which REST resource a path calls: token, composite, query, sobjects, limits or other."""
    segments = path.strip("/").split("/")
    if segments[:2] == ["services", "oauth2"]:
        return "token"
    resource = segments[3] if len(segments) > 3 and segments[:2] == ["services", "data"] else ""
    return _KINDS.get(resource, "other")


def take_fault(faults: list[Fault], kind: str) -> str | None:
    """The first injected fault matching a call of `kind`, used up once (caller holds the lock)."""
    for fault in faults:
        if fault.match == kind or (fault.match == "*" and kind != "token"):
            fault.remaining -= 1
            if fault.remaining == 0:
                faults.remove(fault)
            return fault.fault
    return None


def parse_body(kind: str, raw: bytes) -> Any:
    """The form of a token request, the JSON of any other; a Salesforce error if it is not JSON."""
    if not raw:
        return None
    if kind == "token":
        return dict(parse_qsl(raw.decode()))
    try:
        return json.loads(raw)
    except ValueError as error:
        raise ApiError(400, "JSON_PARSER_ERROR", f"invalid JSON: {error}") from error


def userinfo(valid_token: bool) -> tuple[int, Any]:
    """OpenID Connect UserInfo: the user the token acts as (Salesforce Help, "UserInfo
    Endpoint": `user_id`, `organization_id`, ...). Every token here is the integration user's."""
    if not valid_token:
        return 403, {"error": "invalid_token", "error_description": "Bad_OAuth_Token"}
    user = SEED_PEOPLE[0]
    return 200, {"user_id": user.salesforce_id, "email": user.email, "active": True}
