"""Error classes from the real APIs: which failures wait, which retry, which give up at once."""

from __future__ import annotations

from urllib.error import URLError

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.salesforce.errors import classify, record_result
from bot.slack.errors import slack_failure


def slack_error(error: str, status: int = 200, headers: dict[str, str] | None = None) -> Exception:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError(f"The request to the Slack API failed: {error}", response)


def test_classify_lock_wrapped_by_trigger_as_retryable() -> None:
    message = (
        "LeadTrigger: execution of AfterUpdate caused by: System.DmlException: "
        "Update failed. UNABLE_TO_LOCK_ROW, unable to obtain exclusive access to this record"
    )
    assert classify("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", 400, message) == "retryable"
    # a trigger that refused the record for its own reasons is a refusal, not contention
    refusal = "OppTrigger: execution of BeforeUpdate caused by: Stage cannot go back"
    assert classify("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", 400, refusal) == "fatal"


def test_classify_query_timeout_400_as_retryable() -> None:
    assert classify("QUERY_TIMEOUT", 400, "Your query request was running for too long.") == (
        "retryable"
    )


def test_classify_per_record_unknown_exception_as_retryable() -> None:
    result = record_result(
        "006A",
        {"success": False, "errors": [{"statusCode": "UNKNOWN_EXCEPTION", "message": "boom"}]},
    )
    assert (result.success, result.kind) == (False, "retryable")


def test_classify_per_record_lock_wrapped_as_retryable() -> None:
    errors = [
        {
            "statusCode": "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
            "message": "OppFlow: UNABLE_TO_LOCK_ROW, unable to obtain exclusive access",
        }
    ]
    assert record_result("006A", {"success": False, "errors": errors}).kind == "retryable"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_classify_5xx_as_retryable(status: int) -> None:
    assert classify(None, status) == "retryable"


def test_classify_unable_to_lock_row_as_retryable() -> None:
    assert classify("UNABLE_TO_LOCK_ROW", 400) == "retryable"


def test_classify_request_limit_as_limit() -> None:
    assert classify("REQUEST_LIMIT_EXCEEDED", 403) == "limit"


def test_classify_expired_session_as_auth() -> None:
    assert classify("INVALID_SESSION_ID", 401) == "auth"


def test_classify_invalid_field_as_fatal() -> None:
    assert classify("INVALID_FIELD", 400, "No such column 'Foo__c'") == "fatal"


@pytest.mark.parametrize(
    "error",
    [
        "msg_too_long",
        "msg_blocks_too_long",
        "invalid_arguments",
        "invalid_blocks",
        "not_in_channel",
        "channel_not_found",
        "cant_update_message",
        "token_revoked",
        "account_inactive",
        "missing_scope",
        "not_authed",
        "invalid_auth",
    ],
)
def test_slack_error_that_cannot_succeed_gives_up_at_once(error: str) -> None:
    outcome = slack_failure(slack_error(error))
    assert (outcome.state, outcome.detail) == ("dead", f"Slack refused: {error}")


def test_slack_rate_limit_waits_for_retry_after() -> None:
    outcome = slack_failure(slack_error("ratelimited", 429, {"Retry-After": "42"}))
    assert (outcome.state, outcome.delay) == ("wait", 42.0)


@pytest.mark.parametrize(("error", "status"), [("fatal_error", 500), ("", 503)])
def test_slack_server_error_waits(error: str, status: int) -> None:
    assert slack_failure(slack_error(error, status)).state == "wait"


@pytest.mark.parametrize(
    "exc", [TimeoutError("read timed out"), TimeoutError("timed out"), URLError("reset")]
)
def test_slack_timeout_or_dropped_connection_waits(exc: Exception) -> None:
    outcome = slack_failure(exc)
    assert outcome.state == "wait" and "Slack unreachable" in outcome.detail


def test_slack_unknown_error_spends_an_attempt() -> None:
    assert slack_failure(slack_error("something_new")).state == "retry"
    assert slack_failure(KeyError("to")).state == "retry"
