"""Bundles: many items for one reviewer arrive as one message, each row still decided alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.base.specs import SpecError, load_spec_file
from bot.core import bundles, decisions
from bot.core.bundles import ROWS_PER_MESSAGE
from bot.core.effects import NOTIFY
from bot.core.intake import submit
from bot.core.runtime import Runtime
from bot.delivery import timers
from bot.sandbox.boot import seed_slack_users
from bot.sandbox.slack_standin import SlackStandin
from bot.service import Service
from bot.slack.blocks_text import text_length
from bot.slack.ids import Action, View
from bot.slack.notices import notice_text
from models import Event, Item, Outbox
from tests import payloads
from tests.card_support import (
    REVIEWER,
    FixedReviewer,
    card_worker,
    deliver_cards,
    pending_items,
)
from tests.conftest import LiveServer
from tests.slack_driver import SlackDriver, wait_for
from tests.writeback_support import respec

REP, MANAGER = "U0MAYA", "U0SAM"
BUNDLING = {"bundle_after": 3, "bundle_window": "10m"}


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    with SlackStandin(users=seed_slack_users()) as running:
        yield running


def stored(rt: Runtime, item_id: str) -> Item:
    with rt.db.read() as session:
        found = session.get(Item, item_id, populate_existing=True)
    assert found is not None
    return found


def post(rt: Runtime, agent_key: str, n: int, **over: Any) -> str:
    body = payloads.field_update(idempotency_key=f"bundle-{n}", title=f"Stage move {n}", **over)
    result = submit(rt, token=agent_key, raw=json.dumps(body).encode(), header_key=None)
    return str(result.body["id"])


def bundles_in(standin: SlackStandin, user: str) -> list[Any]:
    return [
        m
        for m in standin.messages_for(user)
        if any(b.get("block_id", "").startswith("row:") for b in m.blocks)
    ]


def row_buttons(message: Any) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["value"])
        for b in message.blocks
        if b.get("block_id", "").startswith("bundle_row:")
        for e in b["elements"]
    ]


def five_bundled(
    rt: Runtime, agent_key: str, standin: SlackStandin, workflows_dir: Path, prefix: str
) -> list[str]:
    """Five items for the reviewer, delivered: more than bundle_after, so one bundle."""
    respec(rt, workflows_dir, review=BUNDLING)
    ids = pending_items(rt, agent_key, 5, prefix=prefix)
    deliver_cards(rt, card_worker(rt, standin))
    return ids


def test_approve_all_over_signed_requests(
    rt: Runtime, agent_key: str, service: Service, workflows_dir: Path
) -> None:
    respec(rt, workflows_dir, review=BUNDLING)
    ids = [post(rt, agent_key, n) for n in range(12)]
    gated = post(rt, agent_key, 99, confidence=0.5)  # low confidence: the manager's gate
    service.worker.drain()
    slack = service.integrations.sandbox.slack
    assert slack is not None
    [bundle] = bundles_in(slack, REP)
    rows = {value for action, value in row_buttons(bundle) if action == Action.BUNDLE_APPROVE}
    assert rows == set(ids)
    assert all(stored(rt, i).card_ts == bundle.ts for i in ids)
    # The manager-gated item is not a row of the rep's bundle: it went to the manager alone.
    kept_out = stored(rt, gated)
    assert (kept_out.assignee, kept_out.bundle_id) == (MANAGER, None)
    assert gated not in json.dumps(bundle.blocks)
    assert not bundles_in(slack, MANAGER)
    [approve_all] = [
        e
        for b in bundle.blocks
        for e in b.get("elements", [])
        if e.get("action_id") == Action.APPROVE_ALL
    ]
    assert approve_all["confirm"]["confirm"]["text"] == "Approve all"  # Slack asks first
    posts_before = len(slack.calls_to("chat.postMessage"))

    with LiveServer(service.app) as server:
        driver = SlackDriver(server.url, service)
        bundle_id = stored(rt, ids[0]).bundle_id
        assert bundle_id is not None and approve_all["value"] == bundle_id
        # A row's Edit opens the card's Edit modal for that item.
        edit = driver.click(REP, Action.EDIT, ids[0], channel=bundle.channel, ts=bundle.ts)
        assert edit.status_code == 200
        view = wait_for(lambda: slack.calls_to("views.open") and driver.last_view())
        assert view["callback_id"] == View.EDIT and ids[0] in view["private_metadata"]
        answer = driver.click(
            REP, Action.APPROVE_ALL, bundle_id, channel=bundle.channel, ts=bundle.ts
        )
        assert answer.status_code == 200
        wait_for(lambda: all(stored(rt, i).status == "approved" for i in ids), 20)
        shown = wait_for(lambda: (m := bundles_in(slack, REP)[0]) and not row_buttons(m) and m, 20)
        driver.http.close()

    with rt.db.read() as session:
        approvals = session.exec(
            select(Event).where(col(Event.item_id).in_(ids), col(Event.type) == "approved")
        ).all()
    assert sorted(str(e.item_id) for e in approvals) == sorted(ids)  # one compare-and-set each
    assert all(e.data["via"] == "bundle" and e.actor == f"user:{REP}" for e in approvals)
    assert stored(rt, gated).status == "pending"
    assert json.dumps(shown.blocks).count("*Approved* by <@U0MAYA>") == 12
    assert shown.ts == bundle.ts  # updated in place, never re-posted
    assert len(slack.calls_to("chat.postMessage")) == posts_before


def test_few_items_get_cards_and_many_split_within_limits(
    rt: Runtime, agent_key: str, standin: SlackStandin, workflows_dir: Path
) -> None:
    respec(rt, workflows_dir, review=BUNDLING)
    few = pending_items(rt, agent_key, 3, prefix="few")
    worker = card_worker(rt, standin)
    deliver_cards(rt, worker)
    assert not bundles_in(standin, REVIEWER)
    assert all(stored(rt, i).bundle_id is None for i in few)

    many = pending_items(rt, agent_key, 2 * ROWS_PER_MESSAGE + 4, prefix="many")
    deliver_cards(rt, worker)
    messages = bundles_in(standin, REVIEWER)
    sizes = sorted(len(row_buttons(m)) // 3 for m in messages)
    # The 3 single cards posted within the window count, so every new item is bundled.
    assert sizes == [4, ROWS_PER_MESSAGE, ROWS_PER_MESSAGE]
    for message in messages:  # the stand-in refused nothing; the limits hold with room to spare
        assert len(message.blocks) <= 50 and text_length(message.blocks) <= 12_000
    assert {stored(rt, i).bundle_id for i in many} == {
        stored(rt, m).bundle_id for m in (many[0], many[-1], many[ROWS_PER_MESSAGE])
    }

    decisions.reject(rt, many[-1], REVIEWER, "tone")
    deliver_cards(rt, worker)
    [last] = [m for m in bundles_in(standin, REVIEWER) if many[-1] in json.dumps(m.blocks)]
    assert (Action.BUNDLE_APPROVE.value, many[-1]) not in row_buttons(last)
    assert "*Rejected* by <@U0MAYA>" in json.dumps(last.blocks)
    assert len(row_buttons(last)) == 3 * 3


def test_bundled_items_are_reminded_per_item(
    rt: Runtime, agent_key: str, standin: SlackStandin, workflows_dir: Path
) -> None:
    ids = five_bundled(rt, agent_key, standin, workflows_dir, "remind")
    [bundle] = bundles_in(standin, REVIEWER)
    decisions.approve(rt, ids[0], REVIEWER, via="bundle")
    report = timers.sweep(rt, FixedReviewer(), now=rt.clock() + timedelta(hours=5))
    assert sorted(report.reminded) == sorted(ids[1:])  # the decided row is not reminded
    with rt.db.read() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()
    assert {row.item_id for row in rows} == set(ids[1:])
    assert all("row of the bundle message" in notice_text(rt, row) for row in rows)
    assert all(stored(rt, i).card_ts == bundle.ts for i in ids)


def test_bad_review_section_names_file_line_and_field(tmp_path: Path) -> None:
    source = (Path(__file__).parent.parent / "workflows" / "opp-hygiene.yml").read_text()
    path = tmp_path / "opp-hygiene.yml"
    path.write_text(source + "review: {bundle_after: 0, bundle_window: soon}\n")
    with pytest.raises(SpecError) as info:
        load_spec_file(path)
    text = "\n".join(info.value.errors)
    assert "review.bundle_after" in text and "review.bundle_window" in text
    assert f"{path}:{len(source.splitlines()) + 1}" in text


def test_approve_all_leaves_decided_rows_and_rows_not_yours(
    rt: Runtime, agent_key: str, standin: SlackStandin, workflows_dir: Path
) -> None:
    ids = five_bundled(rt, agent_key, standin, workflows_dir, "all")
    bundle_id = stored(rt, ids[0]).bundle_id
    assert bundle_id is not None
    decisions.reject(rt, ids[2], "U0ADMIN", "tone")  # someone else got there first

    stranger = bundles.approve_all(rt, bundle_id, "U0PRIYA")  # not the reviewer, not an admin
    assert stranger.approved == [] and set(stranger.left) == set(ids)
    assert all(stored(rt, i).status == "pending" for i in ids if i != ids[2])

    result = bundles.approve_all(rt, bundle_id, REVIEWER)
    assert sorted(result.approved) == sorted(set(ids) - {ids[2]})
    assert result.left == {ids[2]: "was already rejected"}
    assert stored(rt, ids[2]).status == "rejected"
    assert all(
        stored(rt, i).decision == {"verdict": "approved", "via": "bundle"} for i in result.approved
    )


def test_bundle_posted_once_when_the_answer_is_lost(
    rt: Runtime, agent_key: str, standin: SlackStandin, workflows_dir: Path
) -> None:
    standin.lose_answer("chat.postMessage", times=1)  # posted, but Airlock hears fatal_error
    ids = five_bundled(rt, agent_key, standin, workflows_dir, "lost")
    [bundle] = bundles_in(standin, REVIEWER)  # the retry found it in the DM's history
    assert all(stored(rt, i).card_ts == bundle.ts for i in ids)
    assert len(row_buttons(bundle)) == 5 * 3


def test_escalated_row_gets_a_manager_card_and_the_bundle_stays(
    rt: Runtime, agent_key: str, standin: SlackStandin, workflows_dir: Path
) -> None:
    ids = five_bundled(rt, agent_key, standin, workflows_dir, "late")
    [bundle] = bundles_in(standin, REVIEWER)
    for item_id in ids[1:]:
        decisions.approve(rt, item_id, REVIEWER, via="bundle")
    report = timers.sweep(rt, FixedReviewer(), now=rt.clock() + timedelta(hours=25))
    assert report.escalated == [ids[0]]
    deliver_cards(rt, card_worker(rt, standin))
    late = stored(rt, ids[0])
    assert late.manager_card_ts is not None and late.card_ts == bundle.ts
    decisions.reject(rt, ids[0], "U0ADMIN", "tone")
    deliver_cards(rt, card_worker(rt, standin))
    [shown] = bundles_in(standin, REVIEWER)
    assert shown.ts == bundle.ts and row_buttons(shown) == []
    assert "*Rejected* by <@U0ADMIN>" in json.dumps(shown.blocks)
