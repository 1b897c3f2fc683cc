"""The Slack stand-in refuses what Slack refuses: Block Kit, sizes, ids, people, triggers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack_blockkit import VIOLATIONS
from bot.sandbox.slack_signing import trigger_id
from bot.sandbox.slack_standin import SlackStandin, SlackUser

REP = SlackUser("U0REP", "rita", "Rita Rep", "rita@example.com")
GONE = SlackUser("U0GONE", "gus", "Gus Gone", "gus@example.com", deleted=True)
TITLE = {"type": "plain_text", "text": "Edit"}


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    with SlackStandin(users=[REP, GONE]) as running:
        yield running


@pytest.fixture
def client(standin: SlackStandin) -> WebClient:
    return WebClient(token="xoxb-test", base_url=standin.base_url)


def refusal(call: Any) -> tuple[str, list[str]]:
    with pytest.raises(SlackApiError) as exc:
        call()
    body = exc.value.response.data
    return body["error"], body.get("response_metadata", {}).get("messages", [])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(*blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": TITLE, "blocks": list(blocks)} | extra


def field_input(element: dict[str, Any]) -> dict[str, Any]:
    label = {"type": "plain_text", "text": "Amount"}
    return {"type": "input", "block_id": "f", "label": label, "element": element}


@pytest.mark.slack_violations
def test_post_message_refuses_block_kit_the_sdk_refuses(client: WebClient) -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    error, why = refusal(
        lambda: client.chat_postMessage(channel="C0DEALS", text="x", blocks=[header])
    )
    assert error == "invalid_blocks"
    assert "cannot exceed 150 characters" in why[0]
    error, why = refusal(
        lambda: client.chat_postMessage(channel="C0DEALS", text="x", blocks=[{"type": "levitate"}])
    )
    assert (error, "unknown block type" in why[0]) == ("invalid_blocks", True)
    assert [v.error for v in VIOLATIONS[-2:]] == ["invalid_blocks", "invalid_blocks"]


@pytest.mark.slack_violations
def test_messages_over_12000_characters_refused(client: WebClient, standin: SlackStandin) -> None:
    fits = [section("x" * 2900) for _ in range(4)] + [section("y" * 400)]
    posted = client.chat_postMessage(channel="C0DEALS", text="ok", blocks=fits)
    too_long = [*fits, section("z")]
    error, why = refusal(
        lambda: client.chat_postMessage(channel="C0DEALS", text="x", blocks=too_long)
    )
    assert (error, why) == ("msg_blocks_too_long", ["[ERROR] 12001 characters of block text"])
    error, _ = refusal(
        lambda: client.chat_update(channel="C0DEALS", ts=posted["ts"], text="x", blocks=too_long)
    )
    assert error == "msg_blocks_too_long"
    assert len(standin.messages_for("C0DEALS")[0].blocks) == 5


@pytest.mark.slack_violations
def test_documented_limits_the_sdk_leaves_out(client: WebClient) -> None:
    wide = {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}
    assert refusal(lambda: client.chat_postMessage(channel="C0D", text="x", blocks=[wide]))[0] == (
        "invalid_blocks"
    )
    assert refusal(lambda: client.chat_postMessage(channel="C0D", text="x", blocks=[section("")]))[
        0
    ] == ("invalid_blocks")
    elements: list[dict[str, Any]] = [
        {
            "type": "number_input",
            "action_id": "v",
            "is_decimal_allowed": True,
            "initial_value": "1e+21",
        },
        {
            "type": "number_input",
            "action_id": "v",
            "is_decimal_allowed": False,
            "initial_value": "2.5",
        },
        {"type": "datepicker", "action_id": "v", "initial_date": "2026-02-30"},
        {"type": "plain_text_input", "action_id": "v", "initial_value": "t" * 3001},
        {
            "type": "static_select",
            "action_id": "v",
            "options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}],
            "initial_option": {"text": {"type": "plain_text", "text": "B"}, "value": "b"},
        },
        {
            "type": "static_select",
            "action_id": "v",
            "options": [{"text": {"type": "plain_text", "text": ""}, "value": ""}],
        },
    ]
    for element in elements:
        view = modal(field_input(element), submit=TITLE)
        error, why = refusal(lambda v=view: client.views_open(trigger_id=trigger_id(), view=v))
        assert error == "invalid_arguments", element
        assert why and why[0].startswith("[ERROR] blocks[0]"), why


@pytest.mark.slack_violations
def test_views_refused_as_the_sdk_view_model_refuses(client: WebClient) -> None:
    long_title = modal(section("hi")) | {"title": {"type": "plain_text", "text": "t" * 25}}
    no_submit = modal(field_input({"type": "plain_text_input", "action_id": "v"}))
    home_101 = {"type": "home", "blocks": [section("row")] * 101}
    for view in (long_title, no_submit):
        error, _ = refusal(lambda v=view: client.views_open(trigger_id=trigger_id(), view=v))
        assert error == "invalid_arguments"
    assert refusal(lambda: client.views_publish(user_id=REP.id, view=home_101))[0] == (
        "invalid_arguments"
    )
    home_100 = {"type": "home", "blocks": [section("row")] * 100}
    assert client.views_publish(user_id=REP.id, view=home_100)["ok"] is True


def test_channel_must_be_an_id(client: WebClient) -> None:
    for channel in ("rita@example.com", "#deals", "deals", "u0rep"):
        assert refusal(lambda c=channel: client.chat_postMessage(channel=c, text="hi"))[0] == (
            "channel_not_found"
        )
    assert client.chat_postMessage(channel="C0DEALS", text="hi")["ok"] is True


def test_deleted_users_cannot_be_messaged(client: WebClient, standin: SlackStandin) -> None:
    assert refusal(lambda: client.chat_postMessage(channel=GONE.id, text="hi"))[0] == (
        "user_disabled"
    )
    assert refusal(lambda: client.conversations_open(users=GONE.id))[0] == "user_disabled"
    error, _ = refusal(lambda: client.chat_postEphemeral(channel="C0D", user=GONE.id, text="x"))
    assert error == "user_disabled"
    assert standin.messages == {}


def test_trigger_ids_single_use_and_short_lived(client: WebClient, standin: SlackStandin) -> None:
    view = modal(section("hi"))
    now = 1_900_000_000.0
    standin.clock = lambda: now
    fresh = trigger_id(issued=now - 2.9)
    assert client.views_open(trigger_id=fresh, view=view)["ok"] is True
    assert refusal(lambda: client.views_open(trigger_id=fresh, view=view))[0] == (
        "exchanged_trigger_id"
    )
    stale = trigger_id(issued=now - 3.1)
    assert refusal(lambda: client.views_open(trigger_id=stale, view=view))[0] == (
        "expired_trigger_id"
    )
    assert refusal(lambda: client.views_open(trigger_id="abc", view=view))[0] == (
        "invalid_trigger_id"
    )
