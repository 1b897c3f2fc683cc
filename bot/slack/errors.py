"""Slack Web API failures, classified for the outbox: wait out, retry, or give up at once.

The error names come from the "Errors" tables of Slack's method reference pages
(docs.slack.dev/reference/methods/chat.postMessage, .../chat.update,
.../conversations.history) and from slack_sdk's `SlackApiError` (slack_sdk/errors/__init__.py),
which carries the HTTP response whose `error` field holds them.
"""

from __future__ import annotations

import http.client
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from bot.core.outbox import Outcome

# Retrying the same call can never succeed: the message, the channel or the token must change.
# Give up at once; the outbox's give-up hook records it on the item and tells the owner.
GIVE_UP = frozenset(
    {
        # the message itself: too long, malformed, or not what the method takes
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "invalid_charset",
        # where it goes
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "restricted_action",
        "restricted_action_read_only_channel",
        "ekm_access_denied",
        "no_permission",
        # chat.update of a message that cannot be edited any more
        "cant_update_message",
        "edit_window_closed",
        "message_not_found",
        # the app's credentials
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "not_authed",
        "invalid_auth",
        "not_allowed_token_type",
        "as_user_not_supported",
    }
)
# Slack is down, busy or migrating: the call may succeed later unchanged. These wait without
# spending the row's attempts ("fatal_error" and "internal_error" may even have applied the call:
# card posts are reconciled from the conversation's history before they are made again).
WAIT = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "org_login_required",
    }
)
# Transport failures: the request timed out or the connection dropped, perhaps after Slack acted.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    ConnectionError,
    URLError,
    http.client.HTTPException,
)


def slack_failure(exc: Exception) -> Outcome:
    """The outbox outcome of a failed Slack call."""
    if isinstance(exc, SlackApiError):
        return _api_failure(exc)
    if isinstance(exc, TRANSPORT_ERRORS):
        return Outcome.wait(f"Slack unreachable: {type(exc).__name__}: {exc}")
    return Outcome.retry(f"{type(exc).__name__}: {exc}")


def _api_failure(exc: SlackApiError) -> Outcome:
    response = exc.response
    error = str(response.get("error", "")) if response is not None else ""
    status = getattr(response, "status_code", 0) or 0
    if status == 429 or error in ("ratelimited", "rate_limited"):
        headers = response.headers if response is not None else {}
        wait = float(headers.get("Retry-After", headers.get("retry-after", 30)))
        return Outcome.wait("Slack rate limit", delay=max(1.0, wait))
    if error in GIVE_UP:
        return Outcome.dead(f"Slack refused: {error}")
    if status >= 500 or error in WAIT:
        return Outcome.wait(f"Slack unavailable ({status}): {error or exc}")
    return Outcome.retry(f"Slack error {status}: {error or exc}")
