"""Drive the live server the way Slack does: signed interactivity, commands and events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from bot.sandbox import slack_payloads
from bot.sandbox.slack_signing import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    command_body,
    event_body,
    form_body,
    sign,
)
from bot.service import Service
from bot.slack.ids import SLASH_COMMAND
from handlers.slack_commands import WORKING


class SlackDriver:
    """Sends exactly-signed Slack requests to /slack/events."""

    def __init__(self, base_url: str, service: Service) -> None:
        self.url = f"{base_url}/slack/events"
        self.service = service
        self.secret = service.integrations.signing_secret
        standin = service.integrations.sandbox.slack
        assert standin is not None
        self.slack = standin
        self.http = httpx.Client(timeout=15, trust_env=False)

    def send(self, body: bytes, content_type: str, **sign_args: Any) -> httpx.Response:
        """POST exactly these bytes with a valid signature (unless told otherwise)."""
        headers = sign(self.secret, body, content_type=content_type, **sign_args)
        return self.http.post(self.url, content=body, headers=headers)

    def click(self, user: str, action: str, value: str, **where: Any) -> httpx.Response:
        """A button click."""
        payload = slack_payloads.block_action(user, action, value, **where)
        return self.send(form_body(payload), FORM_CONTENT_TYPE)

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> httpx.Response:
        """A modal submission."""
        payload = slack_payloads.view_submission(user, view, values)
        return self.send(form_body(payload), FORM_CONTENT_TYPE)

    def command(self, user: str, text: str) -> httpx.Response:
        """`/airlock <text>`."""
        return self.send(command_body(SLASH_COMMAND, text, user), FORM_CONTENT_TYPE)

    def said(self, user: str, text: str) -> dict[str, Any]:
        """What `/airlock <text>` answers: the ack, or the DM that follows a slow command's
        "working on it" (the handler defers when the database is busy past Slack's 3 s)."""
        before = {m.ts for m in self.slack.messages_for(user)}
        response = self.command(user, text)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        if answer.get("text") != WORKING:
            return answer

        def late() -> str | None:
            new = [m for m in self.slack.messages_for(user) if m.ts not in before and not m.blocks]
            return new[0].text if new else None

        return {"text": wait_for(late, timeout=30), "response_type": "ephemeral", "late": True}

    def event(
        self, event: dict[str, Any], event_id: str | None = None, *, retry: int = 0
    ) -> httpx.Response:
        """An Events API delivery; a retry is signed afresh, as Slack re-sends (so not a replay)."""
        body = event_body(event, event_id or f"Ev{uuid.uuid4().hex[:10]}")
        return self.send(body, JSON_CONTENT_TYPE, timestamp=int(time.time()) - retry)

    def card(self, user: str, item_id: str) -> dict[str, Any]:
        """The latest version of the review card for `item_id` in the user's DM."""
        for message in reversed(self.slack.messages_for(user)):
            if item_id in json.dumps(message.blocks):
                return {
                    "channel": message.channel,
                    "ts": message.ts,
                    "blocks": message.blocks,
                    "text": message.text,
                    "history": message.history,
                }
        raise AssertionError(f"no card for {item_id} in {user}'s DM")

    def last_view(self) -> dict[str, Any]:
        """The view most recently opened with views.open."""
        calls = self.slack.calls_to("views.open")
        assert calls, "no modal was opened"
        view = calls[-1].params["view"]
        return json.loads(view) if isinstance(view, str) else dict(view)


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `check()` is truthy (the outbox works in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
