"""Socket Mode end to end: `airlock serve` with only SLACK_BOT_TOKEN and SLACK_APP_TOKEN.

The Slack stand-in's apps.connections.open hands out the URL of a local Socket Mode server; the
server pushes an Approve click, a slash command and an event as envelopes and checks the acks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from bot.base.config import Settings
from bot.core import keys
from bot.core.runtime import Runtime, open_runtime
from bot.sandbox.boot import seed_slack_users
from bot.sandbox.live import LiveServer
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SalesforceStandin
from bot.sandbox.slack_payloads import block_action
from bot.sandbox.slack_signing import command_body, event_body
from bot.sandbox.slack_socket import SocketModeServer
from bot.sandbox.slack_standin import SlackStandin
from bot.service import build_service
from bot.slack.ids import SLASH_COMMAND, Action
from models import Item
from tests import payloads
from tests.slack_driver import wait_for

REP = "U0MAYA"


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with SlackStandin(users=seed_slack_users()) as standin:
        yield standin


@pytest.fixture
def socket_server(slack: SlackStandin) -> Iterator[SocketModeServer]:
    server = SocketModeServer().start()
    slack.socket_mode_url = server.url
    yield server
    server.stop()


@pytest.fixture
def salesforce() -> Iterator[SalesforceStandin]:
    with SalesforceStandin(seed=True) as standin:
        yield standin


@pytest.fixture
def socket_settings(
    database_url: str, workflows_dir: Path, slack: SlackStandin, salesforce: SalesforceStandin
) -> Settings:
    """Real-service configuration as the README documents it: no signing secret."""
    return Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        AIRLOCK_WORKFLOWS=workflows_dir,
        AIRLOCK_TICK_SECONDS=0.2,
        SLACK_BOT_TOKEN="xoxb-socket-test",
        SLACK_APP_TOKEN="xapp-1-socket-test",
        SLACK_API_URL=slack.base_url,
        SALESFORCE_INSTANCE_URL=salesforce.instance_url,
        SALESFORCE_ACCESS_TOKEN=DEFAULT_TOKEN,
    )


@pytest.fixture
def socket_rt(socket_settings: Settings) -> Iterator[Runtime]:
    runtime = open_runtime(socket_settings)
    yield runtime
    runtime.db.dispose()


def stored(rt: Runtime, item_id: str) -> Item:
    with rt.db.read() as session:
        found = session.get(Item, item_id, populate_existing=True)
    assert found is not None
    return found


def agent_key(rt: Runtime) -> str:
    with rt.db.write() as session:
        _row, secret = keys.create_key(session, agent="socket-agent", workflows=["*"])
    return secret


def test_serve_socket_mode_acks_click_and_command(
    socket_settings: Settings,
    socket_rt: Runtime,
    slack: SlackStandin,
    socket_server: SocketModeServer,
) -> None:
    service = build_service(socket_settings, socket_rt)
    headers = {"Authorization": f"Bearer {agent_key(socket_rt)}"}
    with LiveServer(service.app) as live, httpx.Client(base_url=live.url, headers=headers) as api:
        socket_server.wait_connected()
        assert [c.status for c in slack.calls_to("apps.connections.open")] == [200]
        created = api.post("/api/v1/items", json=payloads.field_update())
        assert created.status_code == 201, created.text
        item_id = created.json()["id"]
        item = wait_for(lambda: (i := stored(socket_rt, item_id)).card_ts and i)

        click = block_action(
            REP, Action.APPROVE.value, item_id, channel=item.card_channel, ts=item.card_ts
        )
        acked = socket_server.ack(socket_server.push("interactive", click))
        assert set(acked) == {"envelope_id"}  # a bare ack: the card is updated after it
        decided = wait_for(lambda: (i := stored(socket_rt, item_id)).status != "pending" and i)
        assert (decided.status, decided.decided_by) == ("approved", REP)
        wait_for(lambda: "Approved* by <@U0MAYA>" in str(slack.messages_for(REP)[-1].blocks))

        command = dict(parse_qsl(command_body(SLASH_COMMAND, "queue", REP).decode()))
        answer = socket_server.ack(socket_server.push("slash_commands", command))
        assert answer["payload"]["response_type"] == "ephemeral"
        assert answer["payload"]["text"] == "Nothing is waiting for you."
        event = {"type": "app_home_opened", "user": REP, "tab": "home", "channel": "D0MAYA"}
        callback = json.loads(event_body(event, "Ev0SOCKET1"))
        assert set(socket_server.ack(socket_server.push("events_api", callback))) == {"envelope_id"}
        home = wait_for(lambda: slack.home_view(REP))
        assert "Waiting for you" in json.dumps(home.view["blocks"])
        # Without a signing secret nothing could verify an HTTP delivery: there is no endpoint.
        assert api.post("/slack/events", content=b"{}").status_code == 404
    service.stop()
    assert socket_server.unmatched == []


def test_connections_open_takes_only_app_token(
    slack: SlackStandin, socket_server: SocketModeServer
) -> None:
    bot = httpx.post(f"{slack.base_url}apps.connections.open", headers=_bearer("xoxb-1"))
    app = httpx.post(f"{slack.base_url}apps.connections.open", headers=_bearer("xapp-1"))
    posting = httpx.post(
        f"{slack.base_url}chat.postMessage",
        headers=_bearer("xapp-1"),
        json={"channel": "C0DEALS", "text": "hi"},
    )
    assert bot.json() == {"ok": False, "error": "not_allowed_token_type"}
    assert app.json()["url"].startswith("ws://127.0.0.1:")
    assert posting.json() == {"ok": False, "error": "not_allowed_token_type"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
