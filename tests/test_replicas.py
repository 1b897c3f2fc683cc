"""Four `airlock serve` processes on one PostgreSQL database: every timer and write happens once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sandbox.boot import seed_slack_users
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SalesforceStandin
from bot.sandbox.slack_payloads import block_action
from bot.sandbox.slack_signing import FORM_CONTENT_TYPE, form_body, sign
from bot.sandbox.slack_standin import SlackStandin
from bot.slack.ids import Action
from tests import payloads
from tests.conftest import PG_URL, free_port
from tests.slack_driver import wait_for

pytestmark = pytest.mark.skipif(not PG_URL, reason="replicas share a PostgreSQL database")
SECRET = "replica-test-secret"
FAST = "escalation: {remind_after: 2s, escalate_after: 4s, expire_after: 7s}"


@dataclass
class Replicas:
    """Four running servers and the stand-ins they share."""

    urls: list[str]
    key: str
    slack: SlackStandin
    salesforce: SalesforceStandin


@pytest.fixture
def replicas(database_url: str, workflows_dir: Path, tmp_path: Path) -> Iterator[Replicas]:
    spec = workflows_dir / "opp-hygiene.yml"
    spec.write_text(
        "\n".join(
            FAST if line.startswith("escalation:") else line
            for line in spec.read_text().splitlines()
        )
        + "\n"
    )
    slack = SlackStandin(users=seed_slack_users()).start()
    salesforce = SalesforceStandin(seed=True).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    env |= {
        "DATABASE_URL": database_url,
        "AIRLOCK_WORKFLOWS": str(workflows_dir),
        "SLACK_BOT_TOKEN": "xoxb-replicas",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.base_url,
        "SALESFORCE_INSTANCE_URL": salesforce.instance_url,
        "SALESFORCE_ACCESS_TOKEN": DEFAULT_TOKEN,
        "AIRLOCK_TICK_SECONDS": "0.3",
        "AIRLOCK_ADMINS": "U0OLIVIA",
    }
    run = [sys.executable, "-m", "bot"]
    subprocess.run([*run, "db", "upgrade"], env=env, check=True, capture_output=True, cwd=tmp_path)
    created = subprocess.run(
        [*run, "keys", "create", "--agent", "replica-test", "--workflows", "*"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    ports = [free_port() for _ in range(4)]
    procs = [
        subprocess.Popen(
            [*run, "serve"],
            env=env | {"PORT": str(p)},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    wait_for(lambda: all(_healthy(u) for u in urls), timeout=60)
    yield Replicas(urls, created.stdout.strip().splitlines()[-1], slack, salesforce)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(15)
    slack.stop()
    salesforce.stop()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def test_four_replicas_do_everything_once(replicas: Replicas) -> None:
    urls, slack, salesforce = replicas.urls, replicas.slack, replicas.salesforce
    headers = {"Authorization": f"Bearer {replicas.key}"}

    def field(opp: str, name: str) -> Any:
        record = salesforce.get("Opportunity", opp)
        assert record is not None
        return record[name]

    ignored: list[str] = []
    approved: list[str] = []
    opportunities: list[str] = []
    for n in range(8):
        body = payloads.field_update(idempotency_key=f"r{n}")
        if n % 2:  # each approved item changes its own opportunity (all four are Maya's)
            opp = make_id("Opportunity", len(opportunities) + 1)
            opportunities.append(opp)
            stage = field(opp, "StageName")
            body |= {
                "record": {"sobject": "Opportunity", "id": opp},
                "changes": [
                    {
                        "field": "NextStep",
                        "value": f"Send MSA {n}",
                        "observed": field(opp, "NextStep"),
                    },
                    {"field": "StageName", "value": stage, "observed": stage},
                ],
            }
        response = httpx.post(
            f"{urls[n % 4]}/api/v1/items", json=body, headers=headers, trust_env=False, timeout=10
        )
        assert response.status_code == 201, response.text
        (approved if n % 2 else ignored).append(response.json()["id"])

    def card_of(item_id: str) -> tuple[str, str] | None:
        for m in slack.messages_for("U0MAYA"):
            if item_id in json.dumps(m.blocks):
                return m.channel, m.ts
        return None

    for n, item_id in enumerate(approved):
        where: tuple[str, str] = wait_for(partial(card_of, item_id), timeout=30)
        click = form_body(
            block_action("U0MAYA", Action.APPROVE, item_id, channel=where[0], ts=where[1])
        )
        answer = httpx.post(
            f"{urls[n % 4]}/slack/events",
            content=click,
            trust_env=False,
            headers=sign(SECRET, click, content_type=FORM_CONTENT_TYPE),
        )
        assert answer.status_code == 200

    def item(item_id: str) -> dict[str, Any]:
        got = httpx.get(f"{urls[0]}/api/v1/items/{item_id}", headers=headers, trust_env=False)
        return dict(got.json())

    wait_for(lambda: all(item(i)["status"] == "expired" for i in ignored), timeout=60)
    wait_for(lambda: all(item(i)["writeback_state"] == "written" for i in approved), timeout=30)
    time.sleep(1.5)  # let any duplicate a replica might send arrive before counting

    posts = Counter(
        c.params.get("channel") for c in slack.calls_to("chat.postMessage") if c.status == 200
    )
    texts = [
        str(c.params.get("text", "")) + str(c.params.get("blocks", ""))
        for c in slack.calls_to("chat.postMessage")
        if c.status == 200
    ]
    for item_id in ignored:
        story = [e["type"] for e in item(item_id)["trace"]]
        assert story.count("reminded") == 1
        assert story.count("escalated") == 1
        assert story.count("expired") == 1
        assert story.count("card_posted") == 1
        assert story.count("manager_card_posted") == 1
        assert sum(item_id in t and "Reminder" in t for t in texts) == 1
    for item_id in approved:
        story = [e["type"] for e in item(item_id)["trace"]]
        assert story.count("approved") == 1
        assert story.count("card_posted") == 1
    patches = [c for c in salesforce.calls if c.method == "PATCH" and c.status < 300]
    for n, opp in enumerate(opportunities):
        assert field(opp, "NextStep") == f"Send MSA {2 * n + 1}"
        assert sum(json.dumps(c.body).count(opp) for c in patches) == 1
    assert posts["U0SAM"] == len(ignored)  # one escalated card per ignored item
