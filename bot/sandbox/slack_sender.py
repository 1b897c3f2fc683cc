"""Send Slack-signed requests to an app's /slack/events over HTTP, exactly as Slack would."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bot.sandbox.slack_signing import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    command_body,
    event_body,
    form_body,
    sign,
)
from bot.sandbox.slack_standin import dm_channel_id
from bot.slack.ids import SLASH_COMMAND


class SlackSender:
    """Interactivity, slash commands and events, signed with the app's signing secret."""

    def __init__(self, base_url: str, secret: str, *, timeout: float = 15.0) -> None:
        self.url = f"{base_url.rstrip('/')}/slack/events"
        self.secret = secret
        self.http = httpx.Client(timeout=timeout, trust_env=False)

    def close(self) -> None:
        """Release the HTTP connections."""
        self.http.close()

    def send(self, body: bytes, content_type: str) -> httpx.Response:
        """POST exactly these bytes, signed now (re-encoding would break the signature)."""
        headers = sign(self.secret, body, content_type=content_type)
        return self.http.post(self.url, content=body, headers=headers)

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """A block action or a view submission (see bot.sandbox.slack_payloads)."""
        return self.send(form_body(payload), FORM_CONTENT_TYPE)

    def command(self, user: str, text: str) -> httpx.Response:
        """`/airlock <text>` typed by `user`."""
        return self.send(command_body(SLASH_COMMAND, text, user), FORM_CONTENT_TYPE)

    def event(self, event: dict[str, Any]) -> httpx.Response:
        """An Events API delivery with a fresh event id."""
        return self.send(event_body(event, f"Ev{uuid.uuid4().hex[:12]}"), JSON_CONTENT_TYPE)

    def home_opened(self, user: str) -> httpx.Response:
        """The `app_home_opened` event Slack sends when someone opens the app's Home tab."""
        event = {"type": "app_home_opened", "user": user, "tab": "home"}
        return self.event(event | {"channel": dm_channel_id(user)})


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """Slack's reading of an HTTP answer: the JSON body, `{}` for an empty 200."""
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {"text": response.text}
    return body if isinstance(body, dict) else {"body": body}
