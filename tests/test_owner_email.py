"""A workflow owner written as an email is told in Slack: DMs go to the person's Slack id.

Slack answers `channel_not_found` to chat.postMessage with an email as `channel`; the strict
stand-in does too, so a notice addressed to the owner's email was never delivered.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from bot.core.effects import NOTIFY
from bot.core.runtime import Runtime
from bot.service import Service
from models import Outbox
from tests import payloads
from tests.slack_driver import wait_for

OWNER_EMAIL = "olivia.admin@sandbox.airlock.dev"
OWNER_ID = "U0OLIVIA"


@pytest.fixture
def workflows_dir(workflows_dir: Path) -> Path:
    spec = workflows_dir / "opp-hygiene.yml"
    spec.write_text(spec.read_text().replace("owner: U0OLIVIA", f"owner: {OWNER_EMAIL}"))
    return workflows_dir


def notices(rt: Runtime) -> list[Outbox]:
    with rt.db.read() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()
    # settled, or tried and waiting to retry
    return [row for row in rows if row.status in ("done", "dead") or row.last_error]


def test_blocked_notice_reaches_owner_named_by_email(
    api: httpx.Client, rt: Runtime, service: Service
) -> None:
    slack = service.integrations.sandbox.slack
    assert slack is not None
    body = payloads.field_update(summary="We guarantee the renewal.")
    created = api.post("/api/v1/items", json=body)
    assert created.json()["status"] == "blocked", created.text
    [row] = wait_for(lambda: notices(rt))
    assert (row.status, row.last_error) == ("done", None)
    told = [m.text for m in slack.messages_for(OWNER_ID)]
    assert any("Blocked *Move Acme renewal to Negotiation*" in t for t in told), json.dumps(told)
