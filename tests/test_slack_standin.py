"""The Slack Web API stand-in, driven by the real slack_sdk client over real HTTP."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack_signing import command_body, event_body, form_body, sign, trigger_id
from bot.sandbox.slack_standin import SlackStandin, SlackUser

REP = SlackUser("U0REP", "rita", "Rita Rep", "rita@example.com", "America/New_York", -18000)
BOSS = SlackUser("U0BOSS", "max", "Max Manager", "max@example.com", "Europe/Berlin", 3600)
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CARD = [{"type": "section", "text": {"type": "mrkdwn", "text": "Move Acme to Negotiation"}}]
DECIDED = [{"type": "section", "text": {"type": "mrkdwn", "text": "Approved by <@U0BOSS>"}}]


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    with SlackStandin(users=[REP, BOSS]) as running:
        yield running


@pytest.fixture
def client(standin: SlackStandin) -> WebClient:
    return WebClient(token="xoxb-test", base_url=standin.base_url)


def error_of(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(exc.value.response["error"])


def test_post_message_to_user_lands_in_stable_dm(client: WebClient) -> None:
    first = client.chat_postMessage(channel=REP.id, text="one", blocks=CARD)
    second = client.chat_postMessage(channel=REP.id, text="two")
    opened = client.conversations_open(users=REP.id)
    assert first["channel"].startswith("D")
    assert second["channel"] == first["channel"] == opened["channel"]["id"]
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == CARD


def test_update_message_keeps_history(client: WebClient, standin: SlackStandin) -> None:
    posted = client.chat_postMessage(channel=REP.id, text="pending", blocks=CARD)
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="approved", blocks=DECIDED)
    [message] = standin.messages_for(REP.id)
    assert (message.text, message.blocks) == ("approved", DECIDED)
    assert message.history == [{"text": "pending", "blocks": CARD}]


def test_update_message_unknown_ts(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="D0REP", ts="1.000001", text="nope")
    assert error_of(exc) == "message_not_found"


def test_post_message_unknown_user_fails(client: WebClient, standin: SlackStandin) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="U0NOBODY", text="hi")
    assert error_of(exc) == "channel_not_found"
    assert standin.messages == {}


def test_post_ephemeral_shown_only_to_user(client: WebClient, standin: SlackStandin) -> None:
    answer = client.chat_postEphemeral(channel="C0DEALS", user=BOSS.id, text="Not yours")
    assert [m.ephemeral_user for m in standin.messages_for(BOSS.id)] == [BOSS.id]
    assert standin.messages_for("C0DEALS") == []
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C0DEALS", ts=answer["message_ts"], text="edited")
    assert error_of(exc) == "message_not_found"


def test_delete_message_removes_it(client: WebClient, standin: SlackStandin) -> None:
    posted = client.chat_postMessage(channel="C0DEALS", text="oops")
    client.chat_delete(channel="C0DEALS", ts=posted["ts"])
    assert standin.messages_for("C0DEALS") == []


def test_lookup_user_by_email(client: WebClient) -> None:
    found = client.users_lookupByEmail(email="Max@Example.com")
    assert found["user"]["id"] == BOSS.id
    with pytest.raises(SlackApiError) as exc:
        client.users_lookupByEmail(email="ghost@example.com")
    assert error_of(exc) == "users_not_found"


def test_get_user_info(client: WebClient, standin: SlackStandin) -> None:
    user = client.users_info(user=REP.id)["user"]
    assert (user["tz"], user["tz_offset"]) == ("America/New_York", -18000)
    assert user["profile"]["email"] == "rita@example.com"
    # slack_sdk sends users.info form-encoded, unlike chat.postMessage.
    assert standin.calls_to("users.info")[0].params["user"] == REP.id
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U0GHOST")
    assert error_of(exc) == "user_not_found"


def test_publish_view_stored_as_home(client: WebClient, standin: SlackStandin) -> None:
    first = client.views_publish(user_id=REP.id, view={"type": "home", "blocks": CARD})
    again = client.views_publish(user_id=REP.id, view={"type": "home", "blocks": DECIDED})
    home = standin.home_view(REP.id)
    assert home is not None and home.id == first["view"]["id"] == again["view"]["id"]
    assert home.id.startswith("V")
    assert home.view["blocks"] == DECIDED
    assert standin.home_view(BOSS.id) is None


def test_update_view_with_stale_hash(client: WebClient) -> None:
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Edit"}, "blocks": CARD}
    opened = client.views_open(trigger_id=trigger_id(), view=modal)["view"]
    client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert error_of(exc) == "hash_conflict"


def test_post_message_retries_after_rate_limit(standin: SlackStandin) -> None:
    client = WebClient(token="xoxb-test", base_url=standin.base_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    # Without the header slack_sdk waits 1-2 s, so only a 2 s Retry-After proves it was read.
    standin.fail_next("chat.postMessage", status=429, retry_after=2)
    answer = client.chat_postMessage(channel="C0DEALS", text="hello")
    calls = standin.calls_to("chat.postMessage")
    assert answer["ok"] is True
    assert [call.status for call in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 2.0
    assert len(standin.messages_for("C0DEALS")) == 1


def test_post_message_server_error_raises(client: WebClient, standin: SlackStandin) -> None:
    standin.fail_next("*", status=500)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0DEALS", text="hello")
    assert exc.value.response.status_code == 500
    assert [call.status for call in standin.calls] == [500]
    assert standin.messages == {}
    assert client.chat_postMessage(channel="C0DEALS", text="hello")["ok"] is True


def test_call_without_token_not_authed(standin: SlackStandin) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=standin.base_url).auth_test()
    assert error_of(exc) == "not_authed"
    assert standin.calls[0].status == 200


def test_call_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.levitate", json={"channel": "C0DEALS"})
    assert error_of(exc) == "unknown_method"


def test_post_form_body_with_query_params(standin: SlackStandin) -> None:
    body = urlencode({"text": "hi & bye", "blocks": json.dumps(CARD)}).encode()
    request = urllib.request.Request(
        standin.base_url + "chat.postMessage?channel=C0DEALS",
        data=body,
        headers={"Authorization": "Bearer xoxb-test"},
    )
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)
    assert answer["ok"] is True and answer["channel"] == "C0DEALS"
    [message] = standin.messages_for("C0DEALS")
    assert (message.text, message.blocks) == ("hi & bye", CARD)


def test_post_message_concurrently_unique_ts(client: WebClient, standin: SlackStandin) -> None:
    def post() -> None:
        for _ in range(10):
            client.chat_postMessage(channel="C0DEALS", text="x")

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({ts for _, ts in standin.messages}) == 60
    assert len(standin.calls) == 60


def test_set_delay_slows_answers(client: WebClient, standin: SlackStandin) -> None:
    standin.set_delay("auth.test", 0.3)
    started = time.monotonic()
    assert client.auth_test()["bot_id"] == "B0AIRLOCK"
    assert time.monotonic() - started >= 0.3


def test_reset_forgets_state_keeps_users(client: WebClient, standin: SlackStandin) -> None:
    client.chat_postMessage(channel=REP.id, text="hi")
    standin.fail_next("users.info", times=5)
    standin.reset()
    assert (standin.calls, standin.messages) == ([], {})
    assert client.users_info(user=REP.id)["user"]["name"] == "rita"


def test_sign_body_accepted_by_verifier() -> None:
    body = form_body({"type": "block_actions", "actions": [{"value": "item-1"}]})
    headers = sign(SECRET, body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace(b"item-1", b"item-2"), headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)


def test_sign_body_stale_timestamp_rejected() -> None:
    body = event_body({"type": "app_home_opened", "user": REP.id}, "Ev01")
    headers = sign(SECRET, body, timestamp=int(time.time()) - 600)
    assert not SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_build_command_body_fields() -> None:
    fields = parse_qs(command_body("/airlock", "pause opp-hygiene now", REP.id).decode())
    assert fields["command"] == ["/airlock"]
    assert fields["text"] == ["pause opp-hygiene now"]
    assert fields["user_id"] == [REP.id]
    assert fields["trigger_id"][0].count(".") == 2


def test_build_event_body_envelope() -> None:
    envelope = json.loads(event_body({"type": "app_home_opened", "user": REP.id}, "Ev01"))
    assert (envelope["type"], envelope["event_id"]) == ("event_callback", "Ev01")
    assert envelope["event"]["user"] == REP.id
