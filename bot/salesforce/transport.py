"""The HTTP adapter under the Salesforce client: timeouts, call counts, limit info, http."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


@dataclass(frozen=True)
class LimitInfo:
    """The org's daily API requests: used and allowed (Sforce-Limit-Info, or the limits call)."""

    used: int
    total: int

    @property
    def share(self) -> float:
        """The part of the daily allowance used, 0 to 1 (and above once it is exceeded)."""
        return self.used / self.total if self.total else 0.0


def limit_info(response: requests.Response) -> LimitInfo | None:
    """API usage from a response's Sforce-Limit-Info header, if it has one.

    e.g. `api-usage=25/5000; per-app-api-usage=17/250(appName=x)`: the org's daily requests
    (REST API Developer Guide, "Limit Info Header"); the per-app quota is not read.
    """
    match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
    return LimitInfo(used=int(match[1]), total=int(match[2])) if match else None


class Transport(HTTPAdapter):
    """Gives every call a timeout, counts calls, reads limit info, re-targets http sandboxes."""

    def __init__(self, timeout: float, on_response: Callable[[requests.Response], None]) -> None:
        super().__init__()  # max_retries=0: retries belong to the outbox, not the transport
        self.timeout = timeout
        self.on_response = on_response
        self.calls = 0
        self.plain_http_hosts: set[str] = set()
        self._lock = threading.Lock()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        if url.scheme == "https" and url.netloc in self.plain_http_hosts:
            # simple-salesforce always builds https:// URLs from the instance host
            request.url = url._replace(scheme="http").geturl()
        with self._lock:
            self.calls += 1
        response = super().send(request, stream, timeout or self.timeout, verify, cert, proxies)
        self.on_response(response)
        return response
