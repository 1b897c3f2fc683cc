"""Agent-written text reaches Slack escaped: no @channel pings, no disguised links, anywhere.

Slack's formatting reference: "&", "<" and ">" are control characters in mrkdwn and must be sent
as &amp;, &lt; and &gt; (https://api.slack.com/reference/surfaces/formatting#escaping).
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.runtime import Runtime
from bot.slack import commands
from bot.slack.blocks import Card, review_card
from bot.slack.blocks_reject import reject_modal
from bot.slack.blocks_views import edit_modal
from bot.slack.notices import notice_text
from models import Outbox
from tests import payloads
from tests.test_blocks import view
from tests.test_lifecycle import post

PING = "<!channel>"
LINK = "<https://evil.example|Reset your password>"
HOSTILE = f"{PING} {LINK} & co"


def assert_escaped(text: str) -> None:
    assert PING not in text and "<https://evil" not in text, text
    assert "&lt;!channel&gt;" in text, text


def mrkdwn_texts(blocks: Any) -> str:
    """Every mrkdwn string in a block tree (plain_text is never parsed for links or mentions)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(found)


def test_message_draft_escaped_on_the_card() -> None:
    message = {"to": [f"{PING}@x.com"], "subject": HOSTILE, "body": f"Hi {LINK}"}
    blocks, _fallback = review_card(Card(view(kind="message_draft", message=message), "W"))
    text = mrkdwn_texts(blocks)
    assert_escaped(text)
    assert "&lt;https://evil.example|Reset your password&gt;" in text


def test_card_fallback_text_and_check_details_escaped() -> None:
    checks = [{"name": "banned_terms", "passed": False, "on_fail": "warn", "detail": HOSTILE}]
    blocks, fallback = review_card(Card(view(title=HOSTILE, checks=checks), "W"))
    assert_escaped(fallback)  # the notification text Slack shows in pushes and the sidebar
    assert_escaped(mrkdwn_texts(blocks))


def test_modal_subtitles_escaped() -> None:
    assert_escaped(mrkdwn_texts(edit_modal("itm_1", HOSTILE, {"NextStep": "call"})))
    assert_escaped(mrkdwn_texts(reject_modal("itm_1", HOSTILE)))


def test_reminder_and_blocked_notices_escaped(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update(title=HOSTILE))
    for reason in ("reminder", "blocked"):
        row = Outbox(
            kind="slack.notify", dedupe_key="x", item_id=item_id, payload={"reason": reason}
        )
        assert_escaped(notice_text(rt, row))


def test_trace_command_escaped(rt: Runtime, agent_key: str) -> None:
    item_id = post(rt, agent_key, payloads.field_update(title=HOSTILE))
    answer = commands.run(rt, "U0ADMIN", f"trace {item_id}")
    assert_escaped(json.dumps(answer.__dict__))
