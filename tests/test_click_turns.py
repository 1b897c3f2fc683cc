"""A click's work waits its turn after the ack, so a burst of clicks is acked at Bolt's speed."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from bot.core.runtime import Runtime
from bot.slack.ids import Action
from handlers import slack_actions, slack_reply
from tests import payloads
from tests.slack_driver import SlackDriver, wait_for
from tests.test_slack_flow import ADMIN, REP, item, posted, submit
from tests.test_surface import paused


@pytest.fixture
def one_permit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_reply, "_work", threading.BoundedSemaphore(1))


@pytest.fixture
def first_blocks(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The first Approve's work blocks (holding its permit) until the event is set."""
    go, real, seen = threading.Event(), slack_actions.decisions.approve, []

    def approve(rt: Runtime, item_id: str, user: str) -> Any:
        seen.append(item_id)
        if len(seen) == 1:
            assert go.wait(30)
        return real(rt, item_id, user)

    monkeypatch.setattr(slack_actions.decisions, "approve", approve)
    return go


def click(slack: SlackDriver, rt: Runtime, action: str, item_id: str) -> httpx.Response:
    stored = posted(rt, item_id)
    return slack.click(REP, action, item_id, channel=stored.card_channel, ts=stored.card_ts)


def test_a_click_is_acked_while_the_work_before_it_runs_and_waits_its_turn(
    api: httpx.Client,
    rt: Runtime,
    slack: SlackDriver,
    one_permit: None,
    first_blocks: threading.Event,
) -> None:
    first, second, third = (
        submit(api, payloads.field_update(idempotency_key=f"turn-{n}")) for n in range(3)
    )
    try:
        assert click(slack, rt, "airlock_approve", first).status_code == 200
        # The second click is acked although the first's work holds the only turn...
        assert click(slack, rt, "airlock_approve", second).status_code == 200
        # ...and Edit, which must open its modal within the 3 s of Slack's trigger_id, takes none.
        assert click(slack, rt, "airlock_edit", third).status_code == 200
        wait_for(lambda: slack.slack.calls_to("views.open"))
        time.sleep(0.3)
        assert (item(rt, first).status, item(rt, second).status) == ("pending", "pending")
    finally:
        first_blocks.set()
    wait_for(lambda: item(rt, second).status == "approved")
    assert item(rt, first).status == "approved"


def test_a_refused_click_gives_its_turn_back(
    api: httpx.Client, rt: Runtime, slack: SlackDriver, one_permit: None
) -> None:
    item_id = submit(api, payloads.field_update())
    assert click(slack, rt, "airlock_approve", item_id).status_code == 200
    wait_for(lambda: item(rt, item_id).status == "approved")
    for refusals in (1, 2):  # "already decided": each refusal gives the one turn back
        assert click(slack, rt, "airlock_approve", item_id).status_code == 200
        wait_for(lambda n=refusals: len(refusals_told(slack)) == n)  # type: ignore[misc]
    assert slack_reply._work.acquire(timeout=5)
    slack_reply._work.release()


def refusals_told(slack: SlackDriver) -> list[Any]:
    """The "already decided" answers the person was shown."""
    return [c for c in slack.slack.calls_to("chat.postEphemeral") if "already" in str(c.params)]


def test_the_stop_button_on_home_never_waits_its_turn(
    api: httpx.Client,
    rt: Runtime,
    slack: SlackDriver,
    one_permit: None,
    first_blocks: threading.Event,
) -> None:
    item_id = submit(api, payloads.field_update())
    assert click(slack, rt, "airlock_approve", item_id).status_code == 200  # holds the permit
    try:
        pause = slack.click(ADMIN, Action.PAUSE.value, "opp-hygiene", home=True)
        assert pause.status_code == 200
        wait_for(lambda: paused(rt), timeout=5)
    finally:
        first_blocks.set()
