"""conversations.history and message metadata for the Slack stand-in, as Slack documents them.

- Metadata: chat.postMessage takes `metadata` {event_type: string, event_payload: object}
  (docs.slack.dev/messaging/message-metadata; slack_sdk.models.metadata.Metadata); a malformed
  value is refused with `invalid_metadata_format` / `invalid_metadata_schema` (chat.postMessage
  reference, Errors).
- conversations.history (docs.slack.dev/reference/methods/conversations.history): `channel`
  required; `oldest` / `latest` bound the time range, exclusive unless `inclusive`; `limit`
  defaults to 100 (at most 999); pages by `cursor` / `response_metadata.next_cursor` with
  `has_more`; newest message first; thread replies are not part of the channel's timeline;
  metadata is returned only with `include_all_metadata`.
"""

from __future__ import annotations

import base64
import json

from bot.sandbox.slack_api import Body, Params, SlackApiFailure, SlackMessage

DEFAULT_LIMIT = 100
MAX_LIMIT = 999
MAX_METADATA_BYTES = 8_000


def check_metadata(params: Params) -> Body | None:
    """The message metadata of a post, or None; refuses what Slack refuses."""
    metadata = params.get("metadata")
    if metadata in (None, ""):
        return None
    if not isinstance(metadata, dict):
        raise SlackApiFailure("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise SlackApiFailure("invalid_metadata_schema")
    if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise SlackApiFailure("metadata_too_large")
    return {"event_type": event_type, "event_payload": payload}


def history(messages: list[SlackMessage], params: Params) -> Body:
    """One page of a channel's timeline, newest first, as conversations.history answers."""
    inclusive = _flag(params.get("inclusive"))
    oldest = float(params.get("oldest") or 0)
    latest = float(params["latest"]) if params.get("latest") else float("inf")
    try:
        limit = min(MAX_LIMIT, max(1, int(params.get("limit") or DEFAULT_LIMIT)))
    except ValueError:
        raise SlackApiFailure("invalid_limit") from None
    with_metadata = _flag(params.get("include_all_metadata"))

    def in_range(msg: SlackMessage) -> bool:
        ts = float(msg.ts)
        if inclusive:
            return oldest <= ts <= latest
        return oldest < ts < latest

    timeline = [
        msg
        for msg in messages
        if msg.ephemeral_user is None and msg.thread_ts in (None, msg.ts) and in_range(msg)
    ]
    timeline.sort(key=lambda msg: float(msg.ts), reverse=True)
    start = _offset(params.get("cursor"))
    page = timeline[start : start + limit]
    more = start + limit < len(timeline)
    cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return {
        "messages": [msg.to_api(with_metadata=with_metadata) for msg in page],
        "has_more": more,
        "pin_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


def _flag(value: object) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _offset(cursor: object) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(str(cursor)).decode().removeprefix("offset:"))
    except ValueError:
        raise SlackApiFailure("invalid_cursor") from None
