"""The Bolt app: signature checks, event dedupe, listeners, and the FastAPI endpoint."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.exc import IntegrityError

from bot.base.db import Database
from bot.base.errors import PayloadTooLarge
from bot.base.http_input import read_limited
from bot.core.runtime import Runtime
from bot.slack import guard as slack_guard
from bot.slack.delivery import ReviewerSource
from bot.slack.ids import ARRIVED
from models import SlackEvent

log = logging.getLogger(__name__)
LISTENER_THREADS = 64


def first_delivery(rt: Runtime, event_id: str, type_: str) -> bool:
    """Record a Slack event id; False when Slack is re-sending one we already handled."""
    try:
        with rt.db.write() as session:
            session.add(SlackEvent(event_id=event_id, type=type_))
    except IntegrityError:
        return False
    return True


def build_bolt_app(
    rt: Runtime, client: WebClient, signing_secret: str, people: ReviewerSource
) -> App:
    """A sync Bolt App whose listeners call the runtime; Slack payloads stop at handlers/."""
    from handlers.slack import register_listeners

    app = App(
        client=client,
        signing_secret=signing_secret,
        token_verification_enabled=False,
        # slack_endpoint() checks the signature before Bolt sees the request.
        request_verification_enabled=False,
        ignoring_self_events_enabled=False,
        raise_error_for_unhandled_request=False,
        # One listener thread per concurrent click: acks never queue behind other listeners'
        # post-ack work (Bolt's default pool has 10 threads).
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
    )

    @app.middleware
    def dedupe_events(body: dict[str, Any], next: Any) -> BoltResponse | None:
        event_id = body.get("event_id")
        if event_id and not first_delivery(rt, event_id, body.get("event", {}).get("type", "")):
            log.info("duplicate Slack event %s ignored", event_id)
            return BoltResponse(status=200, body="")
        response: BoltResponse = next()
        return response

    register_listeners(app, rt, people)
    return app


def slack_endpoint(app: App, signing_secret: str, db: Database, *, max_body_bytes: int) -> Any:
    """FastAPI handler for /slack/events; Bolt dispatches in a worker thread, never on the loop."""
    verifier = SignatureVerifier(signing_secret)

    async def endpoint(request: Request) -> Response:
        arrived = time.monotonic()  # a slash command's ack budget counts from here
        headers = dict(request.headers)
        # Cap the body while reading it: an unauthenticated sender must not make us hold more.
        try:
            raw = await read_limited(
                request.stream(), headers.get("content-length"), max_body_bytes
            )
        except PayloadTooLarge as exc:
            return Response(content=exc.detail, status_code=413)
        # Check the signature before parsing, so a forged or mangled body is a 401, not a crash.
        if not slack_guard.valid_signature(verifier, raw, headers):
            return Response(content="invalid or stale Slack signature", status_code=401)
        # One trip to the thread pool for the replay check and Bolt: under a burst of clicks a
        # second trip queued again behind every other request.
        return await run_in_threadpool(
            _checked_dispatch, app, db, raw, headers, request.url.query, arrived
        )

    return endpoint


def _checked_dispatch(
    app: App, db: Database, raw: bytes, headers: dict[str, str], query: str, arrived: float
) -> Response:
    """Refuse a signature seen before (Slack's own retries get a plain 200), else dispatch."""
    if not slack_guard.first_use(db, headers):
        if "x-slack-retry-num" in headers:  # Slack re-sending bytes we already took
            return Response(status_code=200)
        log.warning("replayed Slack request refused (signature already used)")
        return Response(content="this signed request was already used", status_code=401)
    as_bolt: dict[str, str | Sequence[str]] = dict(headers)
    result: BoltResponse = app.dispatch(
        BoltRequest(
            body=raw.decode("utf-8"),
            query=query,
            headers=as_bolt,
            context={ARRIVED: arrived},
        )
    )
    return Response(
        content=result.body,
        status_code=result.status,
        headers=result.first_headers_without_set_cookie(),
    )
