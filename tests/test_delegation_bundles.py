"""Delegating a reviewer whose items sit in a bundle gives the delegate working cards (issue 17)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.core import decisions, delegation
from bot.sandbox.slack_standin import SlackStandin
from bot.service import Service
from models import Event
from tests.test_bundles import BUNDLING, bundles_in, post, stored
from tests.test_pause_timers import at
from tests.writeback_support import respec

MAYA, LEO = "U0MAYA", "U0LEO"
TUESDAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def bundled(
    service: Service, agent_key: str, workflows_dir: Path
) -> tuple[list[str], SlackStandin]:
    """Five items in one bundle message in Maya's DM."""
    at(service, TUESDAY)
    respec(service.rt, workflows_dir, review=BUNDLING)
    ids = [post(service.rt, agent_key, n) for n in range(5)]
    service.worker.drain()
    slack = service.integrations.sandbox.slack
    assert slack is not None
    [bundle] = bundles_in(slack, MAYA)
    assert all(stored(service.rt, i).card_ts == bundle.ts for i in ids)
    return ids, slack


def test_delegated_bundle_reaches_the_delegate_and_the_old_message_says_so(
    service: Service, agent_key: str, workflows_dir: Path
) -> None:
    ids, slack = bundled(service, agent_key, workflows_dir)
    assert delegation.start(service.rt, MAYA, LEO, TUESDAY + timedelta(days=3)) == 5
    service.worker.drain()

    [theirs] = bundles_in(slack, LEO)
    assert all(i in json.dumps(theirs.blocks) for i in ids)
    assert {stored(service.rt, i).card_ts for i in ids} == {theirs.ts}
    assert {stored(service.rt, i).assignee for i in ids} == {LEO}
    [old] = [m for m in slack.messages_for(MAYA) if "Delegated" in m.text]
    assert f"<@{LEO}>" in old.text and not bundles_in(slack, MAYA)
    # Assigned once to Maya and once to Leo: the row retiring Maya's card is not a first post.
    with service.rt.db.read() as session:
        assigned = session.exec(select(Event.stream).where(col(Event.type) == "assigned")).all()
    assert sorted(assigned) == sorted(ids * 2)
    decisions.approve(service.rt, ids[0], LEO)  # the delegate's rows work
    assert stored(service.rt, ids[0]).status == "approved"


def test_a_decided_row_stays_in_the_old_bundle_and_the_rest_move(
    service: Service, agent_key: str, workflows_dir: Path
) -> None:
    ids, slack = bundled(service, agent_key, workflows_dir)
    decisions.approve(service.rt, ids[0], MAYA)
    service.worker.drain()
    assert delegation.start(service.rt, MAYA, LEO, TUESDAY + timedelta(days=3)) == 4
    service.worker.drain()

    [kept] = bundles_in(slack, MAYA)  # re-rendered: only the row Maya decided is left
    assert ids[0] in json.dumps(kept.blocks)
    assert not any(i in json.dumps(kept.blocks) for i in ids[1:])
    [theirs] = bundles_in(slack, LEO)
    assert all(i in json.dumps(theirs.blocks) for i in ids[1:])
    assert {stored(service.rt, i).card_ts for i in ids[1:]} == {theirs.ts}
