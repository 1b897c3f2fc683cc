"""200 review cards while Slack loses answers (the post applied, the answer lost or late) and the
worker is killed with SIGKILL in the middle of a post: every card is in Slack exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.core.runtime import Runtime
from bot.sandbox.boot import seed_slack_users
from bot.sandbox.slack_standin import SlackStandin
from tests.card_support import card_rows, cards_per_item, pending_items, waiting_cards
from tests.reliability.figures import report

ROOT = Path(__file__).resolve().parents[2]
CARDS = 200


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with SlackStandin(users=seed_slack_users()) as running:
        yield running


def card_process(rt: Runtime, slack: SlackStandin, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    env |= {
        "DATABASE_URL": rt.settings.database_url,
        "AIRLOCK_WORKFLOWS": str(rt.settings.workflows_dir),
    }
    script = str(ROOT / "tests" / "reliability" / "card_worker.py")
    return subprocess.Popen(
        [sys.executable, script, slack.base_url, "1.0"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def test_post_every_card_once_across_sigkill_and_lost_answers(
    rt: Runtime,
    agent_key: str,
    slack: SlackStandin,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    items = pending_items(rt, agent_key, CARDS, prefix="crash")
    lost_answers = 6
    slack.lose_answer("chat.postMessage", times=3)  # applied; Airlock hears fatal_error
    slack.lose_answer("chat.postMessage", times=3, hang=2.5)  # applied; Airlock times out
    first = card_process(rt, slack, tmp_path)
    try:
        wait_until(lambda: len(slack.messages) >= CARDS // 2, timeout=60)
        posted = len(slack.messages)
        # the next post takes effect in Slack, and its answer never comes back: kill it there
        slack.lose_answer("chat.postMessage", times=1, hang=30)
        wait_until(lambda: len(slack.messages) > posted, timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    killed_at = len(slack.messages)
    second = card_process(rt, slack, tmp_path)
    try:
        assert second.wait(timeout=90) == 0
    finally:
        second.kill()

    counts = cards_per_item(slack, items)
    lost = sum(n == 0 for n in counts.values())
    duplicated = sum(n > 1 for n in counts.values())
    report(
        capsys,
        "200 cards, SIGKILL mid-post and lost Slack answers",
        operations=len(slack.calls_to("chat.postMessage"))
        + len(slack.calls_to("conversations.history")),
        faults_injected=lost_answers + 1,
        killed_after_cards=killed_at,
        lost=lost,
        duplicated=duplicated,
    )
    assert (lost, duplicated) == (0, 0)
    assert waiting_cards(rt) == 0
    assert {row.status for row in card_rows(rt)} == {"done"}
