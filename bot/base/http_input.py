"""Reading untrusted request bodies: a size cap while streaming, and JSON parsed defensively.

Python's `json` accepts what Airlock must refuse with a 4xx: integers past the interpreter's
4,300-digit conversion limit (a ValueError), nesting deep enough to exhaust the recursion limit (a
RecursionError), NUL characters, which PostgreSQL cannot store in text or jsonb, and lone
surrogates, which no database driver can encode. (`NaN` and `Infinity` are refused by the
submission models, with a 422 naming the field.)
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import ClientDisconnect

from bot.base.errors import InvalidInput, PayloadTooLarge

MAX_DEPTH = 32


async def read_limited(stream: AsyncIterator[bytes], declared: str | None, limit: int) -> bytes:
    """The whole body, refusing (413) as soon as it is known to exceed `limit` bytes."""
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit} bytes")
    body = bytearray()
    try:
        async for chunk in stream:
            body += chunk
            if len(body) > limit:
                raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    except ClientDisconnect:
        # Gone (or cut off by the read deadline) mid-body: nothing to answer, nothing to log.
        raise InvalidInput("the client disconnected before sending the whole body") from None
    return bytes(body)


class JsonRefused(ValueError):
    """The bytes are not JSON Airlock accepts; the message says why."""


def loads(raw: bytes | str) -> Any:
    """Parse JSON, raising JsonRefused for huge integers and deep nesting."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise JsonRefused(f"the JSON is nested too deeply (the limit is {MAX_DEPTH})") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, the int digit limit
        text = str(exc)
        if "digits" in text:
            text = "a number has too many digits (integers are limited to 4,300 digits)"
        raise JsonRefused(text) from None
    if _depth(data) > MAX_DEPTH:
        raise JsonRefused(f"the JSON is nested too deeply (the limit is {MAX_DEPTH})")
    return data


def _depth(data: Any) -> int:
    deepest, todo = 0, [(data, 1)]
    while todo:
        value, level = todo.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            children = value.values() if isinstance(value, dict) else value
            todo.extend((child, level + 1) for child in children)
    return deepest


# NUL: PostgreSQL text and jsonb refuse it. Lone surrogates ("\ud800" is valid JSON): no UTF-8
# encoding exists, so neither database driver can send them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def refuse_unstorable(data: Any) -> None:
    """422 naming every field whose text (or key) holds NUL or a lone UTF-16 surrogate."""
    bad: list[str] = []
    todo: list[tuple[Any, str]] = [(data, "")]
    while todo:
        value, path = todo.pop()
        if isinstance(value, str) and _unstorable(value):
            bad.append(path or "(body)")
        elif isinstance(value, dict):
            for key, child in value.items():
                where = f"{path}.{key}" if path else str(key)
                if _unstorable(key):
                    bad.append(where)
                todo.append((child, where))
        elif isinstance(value, list):
            todo.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(value))
    if bad:
        bad.sort()
        message = "NUL characters (\\u0000) and lone surrogates (\\ud800) are not allowed"
        errors = [{"field": f, "message": message} for f in bad]
        raise InvalidInput(f"fix these fields: {', '.join(bad[:5])}: {message}", errors=errors)


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header (RFC 6750 section 2.1), or None."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
