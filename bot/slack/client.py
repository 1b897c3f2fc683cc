"""The Slack Web API client: one configured WebClient with retries for 429s, 5xx and resets."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Calls that create something: repeating one after a 5xx or a dropped connection may create it
# twice (Slack's `fatal_error` "may have partially succeeded"). The outbox retries them instead,
# after reading back what the first attempt did.
_NOT_IDEMPOTENT = ("chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage")


def _creates(request: HttpRequest) -> bool:
    return request.url.rstrip("/").endswith(_NOT_IDEMPOTENT)


class _ServerErrorRetry(ServerErrorRetryHandler):
    """Retries 5xx answers, except of calls that may already have created a message."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _creates(request):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class _ConnectionErrorRetry(ConnectionErrorRetryHandler):
    """Retries dropped connections, except of calls that may already have created a message."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _creates(request):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def make_client(token: str, base_url: str, *, retries: int = 2, timeout: int = 10) -> WebClient:
    """A WebClient that honours Retry-After and retries server errors a couple of times.

    Anything still failing is left to the outbox, which backs off for longer.
    """
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers = [
        _ConnectionErrorRetry(max_retry_count=retries),
        RateLimitErrorRetryHandler(max_retry_count=retries),
        _ServerErrorRetry(max_retry_count=retries),
    ]
    return client
