"""Signed agent events: the agent verifies each POST with the `standardwebhooks` library."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr
from sqlmodel import col, select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from bot.base.specs import load_specs
from bot.core import decisions
from bot.core.outbox import OutboxWorker
from bot.core.outbox_giveup import GiveUp
from bot.core.registry import sync_workflows
from bot.core.runtime import Runtime
from bot.core.trace import item_view
from bot.delivery.webhooks import webhook_route
from bot.service import Service
from models import AgentEvent, Outbox
from tests import payloads
from tests.test_lifecycle import get, post
from tests.test_outbox_cli import cli


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Receiver(ThreadingHTTPServer):
    """An agent's endpoint on 127.0.0.1: records raw bodies and headers, can fail first calls."""

    def __init__(self, fail_first: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.raw: list[bytes] = []
        self.headers_seen: list[dict[str, str]] = []
        self.fail_first = fail_first

    @property
    def url(self) -> str:
        """Where the agent listens."""
        return f"http://127.0.0.1:{self.server_address[1]}/airlock/events"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.fail_first > 0:
            self.server.fail_first -= 1
            self.send_response(503)
        else:
            self.server.raw.append(body)
            self.server.headers_seen.append(dict(self.headers))
            self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(fail_first=1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def point_at(rt: Runtime, url: str, **spec: Any) -> None:
    """Give opp-hygiene a callback, reloaded and stored as `airlock serve` does at start."""
    path = rt.settings.workflows_dir / "opp-hygiene.yml"
    path.write_text(yaml.safe_dump(yaml.safe_load(path.read_text()) | {"callback_url": url} | spec))
    rt.specs = load_specs(rt.settings.workflows_dir)
    sync_workflows(rt.db, rt.specs)


def deliver(service: Service, receiver: Receiver, count: int) -> None:
    service.worker.backoff_base = 0.0
    for _ in range(10):
        service.worker.drain()
        if len(receiver.raw) >= count:
            return


def reject_one(service: Service, agent_key: str, key: str = "k") -> str:
    rt = service.rt
    item_id = post(rt, agent_key, payloads.field_update(idempotency_key=key))
    service.worker.drain()
    decisions.reject(rt, item_id, get(rt, item_id).assignee or "", "tone", "too pushy")
    return item_id


def test_agent_verifies_signed_decision(
    service: Service, agent_key: str, receiver: Receiver
) -> None:
    secret = new_secret()
    service.rt.settings.webhook_secret = SecretStr(secret)
    point_at(service.rt, receiver.url)
    item_id = reject_one(service, agent_key)
    deliver(service, receiver, 1)
    [raw], [headers] = receiver.raw, receiver.headers_seen
    event = Webhook(secret).verify(raw, headers)  # what the agent runs
    assert event["type"] == "item.decided"
    assert set(event) == {"type", "timestamp", "data"}
    data = event["data"]
    assert (data["id"], data["status"], data["authority"]) == (item_id, "rejected", "confirmed")
    assert data["decision"]["reason"] == "tone"
    with service.rt.db.read() as session:
        stored = session.exec(select(AgentEvent).where(col(AgentEvent.item_id) == item_id)).one()
    assert headers["webhook-id"] == stored.event_id
    tampered = raw.replace(b'"rejected"', b'"approved"')
    assert tampered != raw
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(raw, headers)


def test_workflow_secret_signs_its_events(
    service: Service, agent_key: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    own, shared = new_secret(), new_secret()
    service.rt.settings.webhook_secret = SecretStr(shared)
    monkeypatch.setenv("OPP_HYGIENE_HOOK_SECRET", own)
    point_at(service.rt, receiver.url, callback_secret_env="OPP_HYGIENE_HOOK_SECRET")
    reject_one(service, agent_key)
    deliver(service, receiver, 1)
    [raw], [headers] = receiver.raw, receiver.headers_seen
    assert Webhook(own).verify(raw, headers)["type"] == "item.decided"
    with pytest.raises(WebhookVerificationError):
        Webhook(shared).verify(raw, headers)


def test_no_secret_leaves_event_dead_naming_the_variable(
    service: Service, agent_key: str, receiver: Receiver
) -> None:
    point_at(service.rt, receiver.url)
    item_id = reject_one(service, agent_key)
    deliver(service, receiver, 1)
    assert receiver.raw == []
    with service.rt.db.read() as session:
        row = session.exec(select(Outbox).where(col(Outbox.kind) == "webhook")).one()
    assert (row.item_id, row.status) == (item_id, "dead")
    assert "set AIRLOCK_WEBHOOK_SECRET" in (row.last_error or "")


def event_row(rt: Runtime, item_id: str, url: str) -> Outbox:
    """A webhook row for the item's first published event."""
    with rt.db.read() as session:
        event = session.exec(select(AgentEvent).where(col(AgentEvent.item_id) == item_id)).first()
    assert event is not None
    return Outbox(
        id=1,
        kind="webhook",
        item_id=item_id,
        dedupe_key=f"event:{event.event_id}",
        payload={"url": url, "event": event.event_id},
    )


@pytest.mark.parametrize(
    ("answer", "state", "delay"),
    [
        (httpx.Response(503), "wait", None),
        (httpx.Response(429, headers={"Retry-After": "30"}), "wait", 30.0),
        (httpx.ConnectError("refused"), "wait", None),
        (httpx.Response(410, text="gone"), "dead", None),
        (httpx.Response(204), "done", None),
    ],
    ids=["503", "429", "down", "410", "204"],
)
def test_webhook_outage_spends_no_attempts(
    service: Service,
    agent_key: str,
    answer: httpx.Response | Exception,
    state: str,
    delay: float | None,
) -> None:
    service.rt.settings.webhook_secret = SecretStr(new_secret())
    item_id = reject_one(service, agent_key)

    def reply(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    route = webhook_route(service.rt, httpx.Client(transport=httpx.MockTransport(reply)))
    outcome = route.handler([event_row(service.rt, item_id, "https://agents.example.com/a")])[1]
    assert (outcome.state, outcome.delay) == (state, delay)


def test_silent_receiver_costs_one_timeout_and_blocks_no_other(
    service: Service, agent_key: str, receiver: Receiver
) -> None:
    """A receiver that accepts the connection and never answers holds no other delivery."""
    rt = service.rt
    rt.settings.webhook_secret = SecretStr(new_secret())
    receiver.fail_first = 0
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never reads, never answers
    try:
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        item_ids = [reject_one(service, agent_key, f"k{n}") for n in range(3)]
        rows = [event_row(rt, i, silent_url) for i in item_ids]
        rows.append(event_row(rt, item_ids[0], receiver.url))
        for n, row in enumerate(rows, start=1):
            row.id = n
        route = webhook_route(rt, httpx.Client(timeout=0.5, trust_env=False))
        began = time.monotonic()
        outcomes = route.handler(rows)
        took = time.monotonic() - began
    finally:
        silent.close()
    assert [outcomes[n].state for n in (1, 2, 3, 4)] == ["wait", "wait", "wait", "done"]
    assert "ReadTimeout" in outcomes[1].detail and "not sent" in outcomes[2].detail
    assert took < 1.5, f"three events to a silent receiver took {took:.2f}s, not one timeout"
    assert len(receiver.raw) == 1 and json.loads(receiver.raw[0])["type"] == "item.decided"


def test_silent_receiver_given_up_shows_in_outbox_list(service: Service, agent_key: str) -> None:
    rt = service.rt
    rt.settings.webhook_secret = SecretStr(new_secret())
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        point_at(rt, f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        item_id = reject_one(service, agent_key)
        routes = {"webhook": webhook_route(rt, httpx.Client(timeout=0.3, trust_env=False))}
        # an outage outlasting the deadline (zero here): the first wait is already too long
        OutboxWorker(rt.db, routes, give_up_after=timedelta(0), on_give_up=GiveUp(rt)).run_once()
    finally:
        silent.close()
    listed = cli(rt, "outbox")
    assert "webhook: 0 stuck, 1 dead" in listed and item_id in listed
    with rt.db.read() as session:
        trail = [e["type"] for e in item_view(session, item_id)["trace"]]
    assert trail[-1] == "delivery_failed"
