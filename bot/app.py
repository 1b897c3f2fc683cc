"""The Bolt app: signature checks, event dedupe, listeners, and the FastAPI endpoint."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from slack_bolt import Ack, App, BoltRequest, BoltResponse
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
# A click's listener thread is held until its work is done, and its work waits its turn after
# the ack (handlers.slack_reply.work_turn): enough threads that a burst of clicks is acked at
# once, not queued behind the work of those before it (bench/ack.py: 950 clicks, 50 at a time,
# reached 512 threads and their acks were paced by the work again). Idle threads cost memory
# only; each counts against the process's task limit (a container's pids limit).
LISTENER_THREADS = 1024
FIRST_USE = "airlock_first_use"  # Bolt context key: this request's replay check


def first_delivery(rt: Runtime, event_id: str, type_: str) -> bool:
    """Record a Slack event id; False when Slack is re-sending one we already handled."""
    try:
        with rt.db.write() as session:
            session.add(SlackEvent(event_id=event_id, type=type_))
    except IntegrityError:
        return False
    return True


class CheckedAck(Ack):
    """A click's ack that runs the replay check once Slack has its answer: a replayed click
    is acked like any other (the ack of a click carries nothing) and then not acted on. So a
    click listener acks before it does anything, and lets refusals_as_messages (handlers/
    slack_reply.py) catch the Replayed its ack raises (tests/test_surface.py covers each)."""

    def __init__(self, first_use: Callable[[], bool]) -> None:
        super().__init__()
        self._first_use = first_use

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        answer = super().__call__(*args, **kwargs)
        if not self._first_use():
            raise slack_guard.Replayed("replayed Slack click ignored (signature already used)")
        return answer


def refuse_replays(body: dict[str, Any], context: Any, req: BoltRequest, next: Any) -> Any:
    """Act on each signed request once (bot.slack.guard). A command, a modal submission or an
    event is checked before its listener, since its ack is its answer. A button click's ack is
    empty, so its check (a database write) waits until just after the ack: before it, the write
    queued behind decisions and card updates and made the ack 1.7-2.7x slower than bare Bolt
    (bench/ack.py)."""
    first_use = context.get(FIRST_USE)
    if first_use is None:  # Socket Mode: nothing signed to replay
        return next()
    if body.get("type") == "block_actions":
        context["ack"] = CheckedAck(first_use)
        return next()
    if first_use():
        return next()
    if req.headers.get("x-slack-retry-num"):  # Slack re-sending bytes we already took
        return BoltResponse(status=200, body="")
    log.warning("replayed Slack request refused (signature already used)")
    return BoltResponse(status=401, body="this signed request was already used")


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
        # Bolt's default pool has 10 threads: acks would queue behind other clicks' work.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
    )

    app.middleware(refuse_replays)

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
    """Dispatch to Bolt, with this request's replay check for refuse_replays() to run."""
    as_bolt: dict[str, str | Sequence[str]] = dict(headers)
    result: BoltResponse = app.dispatch(
        BoltRequest(
            body=raw.decode("utf-8"),
            query=query,
            headers=as_bolt,
            context={ARRIVED: arrived, FIRST_USE: partial(slack_guard.first_use, db, headers)},
        )
    )
    return Response(
        content=result.body,
        status_code=result.status,
        headers=result.first_headers_without_set_cookie(),
    )
