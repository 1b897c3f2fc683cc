"""Domain exceptions: each carries a message a person can act on and an HTTP status."""

from __future__ import annotations

from typing import Any


class AirlockError(Exception):
    """Base of every error Airlock reports to a person."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Unauthorized(AirlockError):
    """No or bad credentials."""

    status, slug, title = 401, "unauthorized", "Missing or invalid agent key"


class Forbidden(AirlockError):
    """Credentials fine, permission missing."""

    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(AirlockError):
    """The named thing does not exist."""

    status, slug, title = 404, "not-found", "Not found"


class Conflict(AirlockError):
    """The request clashes with what is already stored."""

    status, slug, title = 409, "conflict", "Conflict"


class AlreadyDecided(Conflict):
    """A compare-and-set lost: someone else decided first."""

    slug, title = "already-decided", "Already decided"


class InvalidInput(AirlockError):
    """The request body does not match the schema."""

    status, slug, title = 422, "invalid-input", "Invalid input"


class PayloadTooLarge(AirlockError):
    """The body is over the configured limit."""

    status, slug, title = 413, "payload-too-large", "Payload too large"


class TooManyRequests(AirlockError):
    """A bounded resource is full for this caller; `Retry-After` says when to try again."""

    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}
