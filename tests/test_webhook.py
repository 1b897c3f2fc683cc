"""The decision webhook hands the human verdict back to the agent, through the outbox."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from bot.base.specs import load_specs
from bot.core import decisions
from bot.delivery.webhooks import webhook_route
from bot.service import Service
from models import Outbox
from tests import payloads
from tests.test_lifecycle import get, post


class Receiver(ThreadingHTTPServer):
    """An agent's endpoint on 127.0.0.1: records bodies, can fail the first N calls."""

    def __init__(self, fail_first: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.fail_first = fail_first


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        if self.server.fail_first > 0:
            self.server.fail_first -= 1
            self.send_response(503)
        else:
            self.server.bodies.append(body)
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


def test_webhook_delivers_verdict_after_retry(
    service: Service, agent_key: str, receiver: Receiver
) -> None:
    rt = service.rt
    path = rt.settings.workflows_dir / "opp-hygiene.yml"
    url = f"http://127.0.0.1:{receiver.server_address[1]}/airlock/decisions"
    path.write_text(path.read_text() + f"callback_url: {url}\n")
    rt.specs = load_specs(rt.settings.workflows_dir)
    item_id = post(rt, agent_key, payloads.field_update())
    service.worker.drain()
    decisions.reject(rt, item_id, get(rt, item_id).assignee or "", "tone", "too pushy")
    service.worker.backoff_base = 0.0
    for _ in range(5):
        service.worker.drain()
        if receiver.bodies:
            break
    assert len(receiver.bodies) == 1
    verdict = receiver.bodies[0]
    assert verdict["type"] == "airlock.decision"
    assert (verdict["id"], verdict["status"], verdict["authority"]) == (
        item_id,
        "rejected",
        "confirmed",
    )
    assert verdict["decision"]["reason"] == "tone"
    assert receiver.headers_seen[0]["Airlock-Delivery"] == f"{item_id}:webhook:rejected"


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
    item_id = post(service.rt, agent_key, payloads.field_update())

    def reply(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    route = webhook_route(service.rt.db, httpx.Client(transport=httpx.MockTransport(reply)))
    row = Outbox(
        id=1,
        kind="webhook",
        item_id=item_id,
        dedupe_key=f"{item_id}:webhook",
        payload={"url": "https://agents.example.com/airlock"},
    )
    outcome = route.handler([row])[1]
    assert (outcome.state, outcome.delay) == (state, delay)
