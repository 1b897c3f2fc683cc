"""The App Home tab: up to Slack's 100 blocks, and the Workflows section always there."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.reporting.queries import WorkflowState
from bot.sandbox.slack_blockkit import check_view
from bot.slack.blocks_home import HOME_BLOCKS, home_view
from models import Item

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def pending(n: int, assignee: str = "U0MAYA") -> Item:
    return Item(
        id=f"itm_{n:04d}",
        workflow_id="opp-hygiene",
        workflow_version="v1",
        agent="gong-bot",
        agent_key_id="key_1",
        idempotency_key=f"k{n}",
        request_hash="h",
        raw="{}",
        raw_hash="h",
        kind="field_update",
        title=f"Move deal {n} to Negotiation",
        level="crm_write",
        gate="rep",
        status="pending",
        assignee=assignee,
        created_at=NOW,
    )


def workflow(n: int, paused: bool = False) -> WorkflowState:
    reason = "wrong stages" if paused else None
    return WorkflowState(
        f"wf-{n}", f"Workflow {n}", "U0OWNER", "crm_write", "review", paused, reason, 3, 0
    )


def test_home_keeps_workflows_when_queue_is_long() -> None:
    mine = [pending(n) for n in range(80)]
    team = [pending(100 + n, "U0LEO") for n in range(30)]
    flows = [(workflow(n, paused=n == 3), True) for n in range(6)]
    home = home_view(mine, team, flows, "UTC")
    check_view("views.publish", home)  # slack_sdk's View model: at most 100 blocks
    blocks = home["blocks"]
    text = json.dumps(blocks)
    assert HOME_BLOCKS == 100
    assert 90 <= len(blocks) <= HOME_BLOCKS
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert headers == ["Waiting for you", "Your team", "Workflows"]
    buttons = [b["accessory"]["text"]["text"] for b in blocks if "accessory" in b]
    assert buttons == ["Pause", "Pause", "Pause", "Resume", "Pause", "Pause"]
    assert "more waiting for you: `/airlock queue`" in text
    assert "more in your team" in text


def test_home_shows_everything_when_it_fits() -> None:
    home = home_view([pending(1)], [pending(2, "U0LEO")], [(workflow(1), False)], "UTC")
    check_view("views.publish", home)
    text = json.dumps(home["blocks"], ensure_ascii=False)
    assert "itm_0001" in text and "itm_0002" in text and "more" not in text
    assert all("accessory" not in b for b in home["blocks"])  # no control for non-owners


def test_home_shows_paused_scopes_and_still_fits() -> None:
    from bot.slack.blocks_scope import scope_blocks
    from models import PauseScope

    until = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    scopes = [
        PauseScope(kind="agent", target=f"agent-{n}", paused_by="user:U0OLIVIA", until=until)
        for n in range(12)
    ]
    mine = [pending(n) for n in range(80)]
    home = home_view(
        mine, [], [(workflow(n), True) for n in range(60)], "UTC", scope_blocks(scopes, "UTC")
    )
    check_view("views.publish", home)
    text = json.dumps(home["blocks"], ensure_ascii=False)
    assert "`agent:agent-0` PAUSED by <@U0OLIVIA> · resumes by itself Tue 24 Nov 17:00 UTC" in text
    assert "… 2 more paused scopes: `/airlock status`" in text
    assert len(home["blocks"]) <= HOME_BLOCKS
