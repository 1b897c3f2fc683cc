"""The one exception the client raises for an answer Airlock refused: the problem detail, kept."""

from __future__ import annotations

from typing import Any

import httpx


class AirlockError(Exception):
    """Airlock answered 4xx/5xx; `problem` is its RFC 9457 body, `detail` says what to fix."""

    def __init__(self, status: int, problem: dict[str, Any], headers: httpx.Headers) -> None:
        self.status = status
        self.problem = problem
        self.title = str(problem.get("title", "error"))
        self.detail = str(problem.get("detail", ""))
        self.type = str(problem.get("type", "about:blank"))
        self.headers = headers
        super().__init__(f"{status} {self.title}: {self.detail}")

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait before trying again, when the answer said (429, 503)."""
        value = self.headers.get("retry-after")
        return float(value) if value and value.replace(".", "", 1).isdigit() else None

    @classmethod
    def from_response(cls, response: httpx.Response) -> AirlockError:
        """The error for a refused answer; a body that is not JSON is kept as the detail."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"title": response.reason_phrase, "detail": response.text[:500]}
        return cls(response.status_code, body, response.headers)
