"""Slash commands with long work answer at once and finish after the answer (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core import control
from bot.core.release import held_count
from bot.service import Service
from tests import payloads
from tests.conftest import LiveServer
from tests.slack_driver import SlackDriver, wait_for
from tests.writeback_support import post

ADMIN, REP = "U0OLIVIA", "U0MAYA"
HELD = 150  # more than one release batch: the old answer released a batch before acking


@pytest.fixture
def slack(live: LiveServer, service: Service) -> Iterator[SlackDriver]:
    driver = SlackDriver(live.url, service)
    yield driver
    driver.http.close()


def test_resume_answers_before_releasing_held_items(
    service: Service, slack: SlackDriver, agent_key: str
) -> None:
    rt = service.rt
    assert control.pause(rt, "opp-hygiene", ADMIN, "checking stages")
    for n in range(HELD):
        post(rt, agent_key, payloads.field_update(idempotency_key=f"held-{n}"))
    with rt.db.read() as session:
        assert held_count(session, "opp-hygiene") == HELD

    answer = slack.command(ADMIN, "resume opp-hygiene").json()

    # The answer was given before any held item was released, and says the rest is coming.
    assert answer["response_type"] == "in_channel"
    assert f"resumed `opp-hygiene`; its {HELD} held item(s) are being released" in answer["text"]
    done = wait_for(
        lambda: [m for m in slack.slack.messages_for(ADMIN) if "released in order" in m.text],
        timeout=120,
    )
    assert (
        done[-1].text
        == f":white_check_mark: `opp-hygiene`: all {HELD} held item(s) released in order."
    )
    with rt.db.read() as session:
        assert held_count(session, "opp-hygiene") == 0


def test_resume_with_nothing_held_says_so_at_once(service: Service, slack: SlackDriver) -> None:
    assert control.pause(service.rt, "opp-hygiene", ADMIN, "checking stages")
    answer = slack.command(ADMIN, "resume opp-hygiene").json()
    assert answer["text"] == f":arrow_forward: <@{ADMIN}> resumed `opp-hygiene`."
    refused = slack.command(REP, "resume opp-hygiene").json()
    assert "only the owner" in refused["text"]
