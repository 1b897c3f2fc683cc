"""A record owner whose Slack account is deactivated is not sent cards nobody will read.

Slack accepts a post to a deactivated user's DM and nobody ever sees it
(slackapi/python-slack-sdk#1156); users.info says `deleted: true`. The stand-in refuses such
posts (`user_disabled`), and the directory treats the person as not in Slack.
"""

from __future__ import annotations

import dataclasses

import httpx

from bot.core.runtime import Runtime
from bot.sandbox.boot import seed_slack_users
from bot.service import Service
from models import Item
from tests import payloads
from tests.slack_driver import wait_for

REP, OWNER = "U0MAYA", "U0OLIVIA"


def test_card_for_deactivated_owner_goes_to_fallback(
    api: httpx.Client, rt: Runtime, service: Service
) -> None:
    slack = service.integrations.sandbox.slack
    assert slack is not None
    [maya] = [u for u in seed_slack_users() if u.id == REP]
    slack.add_user(dataclasses.replace(maya, deleted=True))
    item_id = api.post("/api/v1/items", json=payloads.field_update()).json()["id"]

    def carded() -> Item | None:
        with rt.db.read() as session:
            found = session.get(Item, item_id, populate_existing=True)
        return found if found is not None and found.card_ts else None

    item = wait_for(carded)
    assert item.assignee == OWNER
    assert any(item_id in str(m.blocks) for m in slack.messages_for(OWNER))
    assert slack.messages_for(REP) == []
