"""Helpers for the write-back tests: a Salesforce client on the stand-in, approved items, and
an outbox worker run until every write has settled."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import col, func, select

from bot.base.specs import load_specs
from bot.core import decisions, lifecycle
from bot.core.effects import NOTIFY, WRITEBACK
from bot.core.intake import submit
from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.delivery.writeback import writeback_route
from bot.salesforce.client import SalesforceClient, SalesforceConfig
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SEED_PEOPLE, SalesforceStandin
from models import Item, Outbox
from tests import payloads

REVIEWER = "U0MAYA"


def key_file(directory: Path) -> Path:
    """A fresh RSA private key (PEM) for the JWT bearer flow; the stand-in checks the claims."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / "salesforce.key"
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    return path


def sf_client(
    standin: SalesforceStandin, *, timeout: float = 10.0, jwt_key: Path | None = None
) -> SalesforceClient:
    """A client with the stand-in's token; with `jwt_key` it can also sign in again on a 401.

    The default timeout is long: on a loaded CI machine one stand-in answer took over 2 s, and
    the client took it for a network timeout. Tests of timeouts give their own."""
    login: dict[str, Any] = {}
    if jwt_key is not None:
        login = {"username": SEED_PEOPLE[0].email, "consumer_key": "airlock-tests"}
        login |= {"private_key_file": jwt_key, "login_url": standin.instance_url}
    config = SalesforceConfig(
        standin.instance_url, access_token=DEFAULT_TOKEN, timeout=timeout, **login
    )
    return SalesforceClient(config)


def write_worker(rt: Runtime, client: SalesforceClient, lease: float = 120.0) -> OutboxWorker:
    """An outbox worker for Salesforce writes only, with short backoff.

    The production lease: claims shrink to what fits in half a lease, and the load test counts
    API calls per 200-record batch, even on a busy machine.
    """
    routes = {WRITEBACK: writeback_route(rt, client)}
    return OutboxWorker(rt.db, routes, lease=timedelta(seconds=lease), backoff_base=0.05)


def post(rt: Runtime, agent_key: str, body: dict[str, Any]) -> str:
    """Submit an intake body in-process; the new item's id."""
    result = submit(rt, token=agent_key, raw=json.dumps(body).encode(), header_key=None)
    return str(result.body["id"])


def update_body(record_id: str, changes: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    """An opp-hygiene field update on `record_id`, assigned to the reviewer."""
    return (
        payloads.field_update(
            record={"sobject": "Opportunity", "id": record_id},
            changes=changes,
            assignee=REVIEWER,
            idempotency_key=f"{record_id}:{json.dumps(changes, sort_keys=True)}",
        )
        | over
    )


def routed(rt: Runtime, agent_key: str, body: dict[str, Any]) -> str:
    """Submit and make the reviewer its decider, as posting the card would (without Slack)."""
    item_id = post(rt, agent_key, body)
    # The agent's `assignee` is only a request: routing makes someone the decider.
    with rt.db.write() as session:
        lifecycle.update_item(
            session, item_id, actor="system", event="assigned", data={}, assignee=REVIEWER
        )
    return item_id


def approved(rt: Runtime, agent_key: str, body: dict[str, Any]) -> str:
    """Submit, route to the reviewer and approve: the item's write is queued."""
    item_id = routed(rt, agent_key, body)
    decisions.approve(rt, item_id, REVIEWER)
    return item_id


def load(rt: Runtime, item_id: str) -> Item:
    """The stored item."""
    with rt.db.read() as session:
        item = session.get(Item, item_id)
    assert item is not None, item_id
    return item


def record(standin: SalesforceStandin, record_id: str) -> dict[str, Any]:
    """An opportunity's fields as Salesforce holds them now."""
    found = standin.get("Opportunity", record_id)
    assert found is not None, record_id
    return found


def outcome(rt: Runtime, item_id: str) -> dict[str, Any]:
    """The item's stored `writeback` details."""
    details = load(rt, item_id).writeback
    assert details is not None, item_id
    return details


def waiting_writes(rt: Runtime) -> int:
    """Salesforce writes not yet settled (pending, due now or later)."""
    with rt.db.read() as session:
        query = select(func.count()).where(
            col(Outbox.kind) == WRITEBACK, col(Outbox.status) == "pending"
        )
        return int(session.exec(query).one())


def settle(rt: Runtime, worker: OutboxWorker, timeout: float = 30.0) -> None:
    """Run the worker until no write is pending (backoffs included), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while waiting_writes(rt):
        if time.monotonic() > deadline:
            raise AssertionError(f"{waiting_writes(rt)} writes still pending after {timeout}s")
        if not worker.run_once():
            time.sleep(0.02)


def patches(standin: SalesforceStandin) -> list[Any]:
    """Bodies of the sObject Collections PATCH calls made so far."""
    return [call.body for call in standin.calls_matching("PATCH", "composite/sobjects")]


def notices(rt: Runtime, reason: str) -> list[dict[str, Any]]:
    """Payloads of the queued Slack notices with this reason."""
    with rt.db.read() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY))
        return [row.payload for row in rows if row.payload.get("reason") == reason]


def write_row(rt: Runtime, item_id: str) -> Outbox:
    """The outbox row of an item's Salesforce write."""
    with rt.db.read() as session:
        query = select(Outbox).where(col(Outbox.item_id) == item_id, Outbox.kind == WRITEBACK)
        return session.exec(query).one()


def respec(rt: Runtime, workflows_dir: Path, **changes: Any) -> None:
    """Edit opp-hygiene.yml (top-level keys) and reload the specs, as an operator would."""
    path = workflows_dir / "opp-hygiene.yml"
    spec = yaml.safe_load(path.read_text()) | changes
    path.write_text(yaml.safe_dump(spec))
    rt.specs = load_specs(workflows_dir)
