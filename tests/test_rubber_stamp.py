"""Rubber-stamp detection: instant near-total approval is flagged in stats, the report and to the
owner once a week."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.core.effects import NOTIFY
from bot.core.runtime import Runtime
from bot.reporting import queries, rubber_stamp
from bot.reporting.report import rubber_stamp_lines
from bot.slack import commands
from models import Outbox
from models.types import utcnow
from tests.test_autonomy import ADMIN, OWNER, decide_many

WORKFLOW = "opp-hygiene"


def test_instant_approvals_are_flagged_in_stats_and_report(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=29)
    assert queries.stats(rt, WORKFLOW).rubber_stamps == []  # 29: too few to judge
    decide_many(rt, agent_key, approved=1, prefix="more")
    [found] = queries.stats(rt, WORKFLOW).rubber_stamps
    assert (found.reviewer, found.decisions, found.approved) == (ADMIN, 30, 30)
    assert found.median_seconds < rubber_stamp.FAST_SECONDS
    text = commands.run(rt, OWNER, f"stats {WORKFLOW}").text
    assert ":eyes: Possible rubber-stamping: <@U0ADMIN> approved 30 of their last 30" in text
    [line] = rubber_stamp_lines(rt)
    assert line.startswith(f"Possible rubber-stamping in {WORKFLOW}: {ADMIN} approved 30 of")


def test_rejections_or_slow_reviews_are_not_flagged(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=29, rejected=1)
    with rt.db.read() as session:
        one = rubber_stamp.reviewer_pattern(session, WORKFLOW, ADMIN)
    assert (one.decisions, one.approved, one.rubber_stamp) == (30, 29, False)
    # Cards shown a minute before each decision: a considered review, however many approvals.
    shown = utcnow() - timedelta(minutes=1)
    rt.clock = lambda: shown
    decide_many(rt, agent_key, approved=30, prefix="slow")
    with rt.db.read() as session:
        slow = rubber_stamp.reviewer_pattern(session, WORKFLOW, ADMIN)
    assert slow.approve_rate == 1.0 and slow.median_seconds >= 55
    assert not slow.rubber_stamp


def test_only_the_last_decisions_count(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=0, rejected=5)
    decide_many(rt, agent_key, approved=30, prefix="fast")
    with rt.db.read() as session:
        assert rubber_stamp.reviewers(session, WORKFLOW) == [ADMIN]
        assert [r.reviewer for r in rubber_stamp.flagged(session, WORKFLOW)] == [ADMIN]
        assert rubber_stamp.reviewers(session, "account-brief") == []


def owner_notices(rt: Runtime) -> list[Outbox]:
    with rt.db.read() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()
    return [r for r in rows if r.payload.get("reason") == "rubber_stamp"]


def test_owner_told_once_a_week(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=30)
    assert rubber_stamp.queue_weekly_notices(rt) == 1
    rubber_stamp.queue_weekly_notices(rt)
    [notice] = owner_notices(rt)
    assert notice.payload["to"] == OWNER
    assert "<@U0ADMIN> approved 30 of their last 30" in notice.payload["text"]
    week_later = rt.clock() + timedelta(days=7)
    rt.clock = lambda: week_later
    rubber_stamp.queue_weekly_notices(rt)
    assert len(owner_notices(rt)) == 2
