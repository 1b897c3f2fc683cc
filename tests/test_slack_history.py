"""The Slack stand-in's message metadata, conversations.history and lost-answer fault, driven by
the real slack_sdk client over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack_standin import SlackStandin, SlackUser

REP = SlackUser("U0REP", "rita", "Rita Rep", "rita@example.com")
META = {"event_type": "airlock_card", "event_payload": {"item_id": "itm_1", "step": "card"}}


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    with SlackStandin(users=[REP]) as running:
        yield running


@pytest.fixture
def client(standin: SlackStandin) -> WebClient:
    client = WebClient(token="xoxb-test", base_url=standin.base_url, timeout=1)
    client.retry_handlers = []
    return client


def dm(client: WebClient) -> str:
    return str(client.conversations_open(users=REP.id)["channel"]["id"])


def test_history_returns_metadata_only_when_asked(client: WebClient) -> None:
    client.chat_postMessage(channel=REP.id, text="card", metadata=META)
    plain = client.conversations_history(channel=dm(client))
    full = client.conversations_history(channel=dm(client), include_all_metadata=True)
    assert "metadata" not in plain["messages"][0]
    assert full["messages"][0]["metadata"] == META


def test_history_newest_first_bounded_by_oldest(client: WebClient) -> None:
    first = client.chat_postMessage(channel=REP.id, text="one")
    second = client.chat_postMessage(channel=REP.id, text="two")
    third = client.chat_postMessage(channel=REP.id, text="three")
    page = client.conversations_history(channel=dm(client))
    assert [m["text"] for m in page["messages"]] == ["three", "two", "one"]
    after = client.conversations_history(channel=dm(client), oldest=first["ts"])
    assert [m["ts"] for m in after["messages"]] == [third["ts"], second["ts"]]  # exclusive
    inclusive = client.conversations_history(channel=dm(client), oldest=first["ts"], inclusive=True)
    assert len(inclusive["messages"]) == 3


def test_history_pages_with_cursor(client: WebClient) -> None:
    for n in range(5):
        client.chat_postMessage(channel=REP.id, text=f"m{n}")
    seen, cursor = [], None
    while True:
        page = client.conversations_history(channel=dm(client), limit=2, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == ["m4", "m3", "m2", "m1", "m0"] and cursor == ""


def test_history_unknown_channel_refused(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.conversations_history(channel="C0NOPE")
    assert exc.value.response["error"] == "channel_not_found"


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "x", "event_payload": "not an object"}, "invalid_metadata_schema"),
        ({"event_type": "x", "event_payload": {"big": "x" * 9000}}, "metadata_too_large"),
    ],
)
def test_post_refuses_malformed_metadata(client: WebClient, metadata: dict, error: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=REP.id, text="card", metadata=metadata)
    assert exc.value.response["error"] == error


def test_lose_answer_applies_the_call(client: WebClient, standin: SlackStandin) -> None:
    standin.lose_answer("chat.postMessage")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=REP.id, text="card", metadata=META)
    assert (exc.value.response.status_code, exc.value.response["error"]) == (500, "fatal_error")
    [message] = standin.messages_for(REP.id)
    assert message.metadata == META


def test_lose_answer_with_hang_times_out_after_applying(
    client: WebClient, standin: SlackStandin
) -> None:
    standin.lose_answer("chat.postMessage", hang=1.5)
    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel=REP.id, text="card")
    assert len(standin.messages_for(REP.id)) == 1
