"""Interactivity payloads shaped as Slack sends them, for the sandbox page and the tests."""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack_signing import trigger_id
from bot.sandbox.slack_standin import APP_ID, TEAM_ID


def block_action(
    user: str,
    action_id: str,
    value: str,
    *,
    channel: str | None = None,
    ts: str | None = None,
    home: bool = False,
) -> dict[str, Any]:
    """A button click on a message (channel + ts) or on the App Home tab."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "team": {"id": TEAM_ID, "domain": "airlock-sandbox"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "trigger_id": trigger_id(),
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"b:{value}",
                "value": value,
                "action_ts": "1",
            }
        ],
    }
    if home:
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        payload["view"] = {"type": "home", "id": "VHOME"}
    else:
        payload["container"] = {"type": "message", "channel_id": channel, "message_ts": ts}
        payload["channel"] = {"id": channel, "name": "directmessage"}
        payload["message"] = {"ts": ts, "type": "message"}
    return payload


def select_action(
    user: str, action_id: str, value: str, *, channel: str | None = None, ts: str | None = None
) -> dict[str, Any]:
    """An option picked from a static_select on a message (the card's Snooze menu)."""
    payload = block_action(user, action_id, value, channel=channel, ts=ts)
    payload["actions"] = [
        {
            "type": "static_select",
            "action_id": action_id,
            "block_id": f"b:{value}",
            "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
            "action_ts": "1",
        }
    ]
    return payload


def view_submission(user: str, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A modal submitted with `values` ({block_id: {action_id: state}}) filled in."""
    submitted = view | {
        "id": view.get("id", "VMODAL"),
        "state": {"values": values},
        "hash": "1",
        "team_id": TEAM_ID,
        "app_id": APP_ID,
    }
    return {
        "type": "view_submission",
        "api_app_id": APP_ID,
        "token": "sandbox-verification-token",
        "team": {"id": TEAM_ID, "domain": "airlock-sandbox"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "trigger_id": trigger_id(),
        "view": submitted,
    }


def text_state(value: str) -> dict[str, Any]:
    """State of a plain_text_input or number_input."""
    return {"value": {"type": "plain_text_input", "value": value}}


def select_state(value: str) -> dict[str, Any]:
    """State of a static_select."""
    return {
        "value": {
            "type": "static_select",
            "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
        }
    }


def date_state(value: str) -> dict[str, Any]:
    """State of a datepicker."""
    return {"value": {"type": "datepicker", "selected_date": value}}


def checkboxes_state(values: list[str]) -> dict[str, Any]:
    """State of a checkboxes element with these option values ticked."""
    picked = [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]
    return {"value": {"type": "checkboxes", "selected_options": picked}}
