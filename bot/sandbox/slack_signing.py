"""Build Slack requests signed as Slack signs them (v0), for tests and the sandbox.

Send the exact bytes these helpers return (httpx `content=`): re-encoding them breaks the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.slack_standin import APP_ID, BOT_USER_ID, TEAM_ID

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


def sign(
    secret: str, body: bytes, timestamp: int | None = None, *, content_type: str | None = None
) -> dict[str, str]:
    """Headers that make `body` pass Slack's v0 signature check (plus Content-Type if given)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    return headers if content_type is None else headers | {"Content-Type": content_type}


def trigger_id(issued: float | None = None) -> str:
    """A fresh trigger id shaped like Slack's; its first part is when it was issued, in ms.

    The Slack stand-in reads that part to let a trigger expire 3 s after issue, as Slack does.
    """
    millis = int((time.time() if issued is None else issued) * 1000)
    return f"{millis}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


def form_body(payload: dict[str, Any]) -> bytes:
    """An interactivity request body: the payload as JSON in a `payload` form field."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def command_body(
    command: str,
    text: str,
    user_id: str,
    *,
    user_name: str = "sandbox-user",
    channel_id: str = "C0SANDBOX",
    team_id: str = TEAM_ID,
    response_url: str = "https://hooks.slack.com/commands/T0SANDBOX/1/sandbox",
    trigger: str | None = None,
    token: str = "sandbox-verification-token",
) -> bytes:
    """A slash-command request body with the form fields Slack sends, in Slack's order."""
    fields = {
        "token": token,
        "team_id": team_id,
        "team_domain": "airlock-sandbox",
        "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else "sandbox",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger or trigger_id(),
    }
    return urlencode(fields).encode()


def event_body(event: dict[str, Any], event_id: str, *, team_id: str = TEAM_ID) -> bytes:
    """An Events API request body: the `event_callback` envelope around `event`."""
    authorization = {"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID}
    envelope = {
        "token": "sandbox-verification-token",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [authorization | {"is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode()
