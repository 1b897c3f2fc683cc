"""The Web API methods the Slack stand-in serves, each a handler over its in-memory state."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

from bot.sandbox.slack_api import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Body,
    Params,
    SlackApiFailure,
    SlackMessage,
    SlackUser,
    SlackView,
    StandinState,
    dm_channel_id,
)
from bot.sandbox.slack_blockkit import check_message, check_view
from bot.sandbox.slack_history import check_metadata, history

# Conversation ids: C (channel), G (private or group DM), D (DM); U/W user ids address a DM.
# A name (#deals) or an email is not an id: chat.postMessage answers channel_not_found.
_CONVERSATION_ID = re.compile(r"^[CDGUW][A-Z0-9]{2,}$")
# views.open: "trigger_id ... expires 3 seconds after it's sent to your app" and is exchanged
# once (https://docs.slack.dev/interactivity/handling-user-interaction, views.open errors
# expired_trigger_id, exchanged_trigger_id, invalid_trigger_id).
TRIGGER_TTL_SECONDS = 3.0


class SlackMethods:
    """Per-method handlers; SlackStandin adds HTTP, locking, faults and inspection on top."""

    def __init__(self, users: list[SlackUser] | None = None) -> None:
        self._users = {user.id: user for user in users or []}
        self._state = StandinState()
        self._last_micros = 0
        self._seq = 0
        # Where apps.connections.open sends a Socket Mode app (see bot/sandbox/slack_socket.py).
        self.socket_mode_url: str | None = None
        # Wall clock for trigger expiry; tests swap it to step past the 3 s without sleeping.
        self.clock: Callable[[], float] = time.time
        self._methods: dict[str, Callable[[Params], Body]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._open_connection,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete_message,
            "views.open": self._open_view,
            "views.push": self._open_view,
            "views.update": self._update_view,
            "views.publish": self._publish_view,
            "users.info": self._user_info,
            "users.lookupByEmail": self._lookup_by_email,
            "conversations.open": self._open_conversation,
            "conversations.history": self._history,
        }

    def _next_ts(self) -> str:
        # Slack ts values are unique and sort by time; callers key stored cards on them.
        micros = max(time.time_ns() // 1000, self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:08X}"

    def _user(self, user_id: str, error: str = "user_not_found") -> SlackUser:
        if user_id not in self._users:
            raise SlackApiFailure(error)
        return self._users[user_id]

    def _channel(self, params: Params) -> str:
        channel = _required(params, "channel", "channel_not_found")
        if not _CONVERSATION_ID.match(channel):
            raise SlackApiFailure("channel_not_found")
        if channel[:1] in ("U", "W"):
            return dm_channel_id(self._active(channel, "channel_not_found").id)
        return channel

    def _active(self, user_id: str, error: str) -> SlackUser:
        # Slack itself accepts a post to a deactivated user's DM and nobody ever reads it
        # (slackapi/python-slack-sdk#1156); the stand-in refuses, so that loss is visible.
        user = self._user(user_id, error)
        if user.deleted:
            raise SlackApiFailure("user_disabled")
        return user

    def _exchange_trigger(self, trigger_id: str) -> None:
        issued_ms = trigger_id.split(".", 1)[0]
        if not issued_ms.isdigit():
            raise SlackApiFailure("invalid_trigger_id")
        if trigger_id in self._state.used_triggers:
            raise SlackApiFailure("exchanged_trigger_id")
        if self.clock() - int(issued_ms) / 1000 > TRIGGER_TTL_SECONDS:
            raise SlackApiFailure("expired_trigger_id")
        self._state.used_triggers.add(trigger_id)

    def _message(self, params: Params) -> SlackMessage:
        key = (str(params.get("channel", "")), str(params.get("ts", "")))
        msg = self._state.messages.get(key)
        if msg is None or msg.ephemeral_user is not None:
            raise SlackApiFailure("message_not_found")
        return msg

    def _view(self, params: Params) -> SlackView:
        wanted, external = params.get("view_id"), params.get("external_id")
        for view in self._state.views.values():
            if view.id == wanted or (external and view.view.get("external_id") == external):
                if params.get("hash") and params["hash"] != view.hash:
                    raise SlackApiFailure("hash_conflict")
                return view
        raise SlackApiFailure("not_found")

    def _replace_view(self, view: SlackView, payload: Body) -> Body:
        view.history.append(view.view)
        view.view, view.hash = payload, self._next_id("H")
        return {"view": view.to_api()}

    def _auth_test(self, params: Params) -> Body:
        return {
            "url": "https://airlock-sandbox.slack.com/",
            "team": "Airlock Sandbox",
            "user": "airlock",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _open_connection(self, params: Params) -> Body:
        if self.socket_mode_url is None:
            # Socket Mode is off for this app: no URL to hand out (the error name is the
            # stand-in's own; Slack documents none for this case).
            raise SlackApiFailure("socket_mode_not_enabled")
        return {"url": self.socket_mode_url}

    def _post_message(self, params: Params) -> Body:
        channel = self._channel(params)
        text, blocks = _content("chat.postMessage", params, None)
        msg = SlackMessage(channel, self._next_ts(), text, blocks, params.get("thread_ts"))
        msg.metadata = check_metadata(params)
        self._state.messages[(channel, msg.ts)] = msg
        return {"channel": channel, "ts": msg.ts, "message": msg.to_api()}

    def _update_message(self, params: Params) -> Body:
        msg = self._message(params)
        text, blocks = _content("chat.update", params, msg)
        msg.history.append({"text": msg.text, "blocks": msg.blocks})
        msg.text, msg.blocks = text, blocks
        return {"channel": msg.channel, "ts": msg.ts, "text": text, "message": msg.to_api()}

    def _post_ephemeral(self, params: Params) -> Body:
        channel = self._channel(params)
        user = self._active(_required(params, "user", "user_not_found"), "user_not_in_channel")
        text, blocks = _content("chat.postEphemeral", params, None)
        msg = SlackMessage(channel, self._next_ts(), text, blocks, ephemeral_user=user.id)
        self._state.messages[(channel, msg.ts)] = msg
        return {"message_ts": msg.ts}

    def _delete_message(self, params: Params) -> Body:
        msg = self._message(params)
        del self._state.messages[(msg.channel, msg.ts)]
        return {"channel": msg.channel, "ts": msg.ts}

    def _open_view(self, params: Params) -> Body:
        trigger_id = _required(params, "trigger_id", "invalid_arguments")
        payload = _view_payload("views.open", params, "modal")
        self._exchange_trigger(trigger_id)
        view = SlackView(self._next_id("V"), payload, self._next_id("H"), trigger_id=trigger_id)
        self._state.views[view.id] = view
        return {"view": view.to_api()}

    def _update_view(self, params: Params) -> Body:
        view = self._view(params)
        kind = str(view.view.get("type"))
        return self._replace_view(view, _view_payload("views.update", params, kind))

    def _publish_view(self, params: Params) -> Body:
        user = self._user(_required(params, "user_id", "invalid_arguments"))
        payload = _view_payload("views.publish", params, "home")
        if user.id in self._state.home:
            # Slack keeps one Home view per user and app; a publish replaces its content.
            view = self._view({"view_id": self._state.home[user.id], "hash": params.get("hash")})
            return self._replace_view(view, payload)
        view = SlackView(self._next_id("V"), payload, self._next_id("H"), user_id=user.id)
        self._state.views[view.id] = view
        self._state.home[user.id] = view.id
        return {"view": view.to_api()}

    def _user_info(self, params: Params) -> Body:
        return {"user": self._user(_required(params, "user", "user_not_found")).to_api()}

    def _lookup_by_email(self, params: Params) -> Body:
        email = _required(params, "email", "users_not_found").lower()
        for user in self._users.values():
            if user.email.lower() == email:
                return {"user": user.to_api()}
        raise SlackApiFailure("users_not_found")

    def _history(self, params: Params) -> Body:
        channel = _required(params, "channel", "channel_not_found")
        in_channel = [m for (c, _ts), m in self._state.messages.items() if c == channel]
        is_dm = any(dm_channel_id(user) == channel for user in self._users)
        if not in_channel and not is_dm:
            raise SlackApiFailure("channel_not_found")
        return history(in_channel, params)

    def _open_conversation(self, params: Params) -> Body:
        if params.get("channel"):
            return {"channel": {"id": params["channel"]}, "already_open": True}
        raw = params.get("users") or []
        ids = raw if isinstance(raw, list) else str(raw).split(",")
        users = sorted(
            self._active(user_id.strip(), "user_not_found").id for user_id in ids if user_id.strip()
        )
        if not users:
            raise SlackApiFailure("users_list_not_supplied")
        if len(users) == 1:
            return {"channel": {"id": dm_channel_id(users[0]), "is_im": True}}
        digest = hashlib.sha1(",".join(users).encode()).hexdigest()[:10].upper()
        return {"channel": {"id": f"G{digest}", "is_mpim": True}}


def _required(params: Params, key: str, error: str) -> str:
    value = params.get(key)
    if not value or not isinstance(value, str):
        raise SlackApiFailure(error)
    return value


def _content(method: str, params: Params, current: SlackMessage | None) -> tuple[str, list[Body]]:
    # chat.update keeps whatever the call leaves out, as Slack does; a post needs something.
    text = str(params.get("text") or (current.text if current else ""))
    blocks = params.get("blocks", current.blocks if current else [])
    if "blocks" in params:
        check_message(method, blocks)
    if not text and not blocks and not params.get("attachments"):
        raise SlackApiFailure("no_text")
    return text, blocks


def _view_payload(method: str, params: Params, kind: str) -> Body:
    view = params.get("view")
    if not isinstance(view, dict) or view.get("type") != kind:
        raise SlackApiFailure("invalid_arguments")
    check_view(method, view)
    return view
