"""Outcomes against a holdout, end to end on the stand-ins with a simulated clock."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from bot.base.levels import Status
from bot.core import holdout, intake
from bot.core.lift import MIN_PER_ARM, lifts, segment_lifts
from bot.delivery import outcome_reads, timers
from bot.reporting import queries
from bot.reporting.outcomes import lift_line
from bot.reporting.report import report_rows
from bot.salesforce.ids import id_key
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.service import Service
from bot.slack.blocks_home import stats_text
from models import AgentEvent, Item, Outbox
from tests import payloads
from tests.test_outbox_cli import cli
from tests.test_outcome_spec import OUTCOME
from tests.test_rollups import counted, stored

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WINDOW = timedelta(days=14)
WORKFLOW = (
    """\
id: opp-outcomes
name: Opportunity next plays
owner: U0OLIVIA
trigger: nightly
inputs: [Salesforce Opportunity]
task: Recommend the next play on each open deal
level: recommendation
allowed_outputs: {kinds: [recommendation]}
escalation: {remind_after: 4h, expire_after: 72h}
segment_by: Account.Industry
failure_modes: [wrong deal]
success_metric: deals move a stage within two weeks
"""
    + OUTCOME
)


@pytest.fixture
def workflows_dir(workflows_dir: Path) -> Path:
    (workflows_dir / "opp-outcomes.yml").write_text(WORKFLOW, encoding="utf-8")
    return workflows_dir


def standin(service: Service) -> SalesforceStandin:
    box = service.integrations.sandbox.salesforce
    assert box is not None
    return box


def new_deals(service: Service, n: int) -> list[str]:
    sf = standin(service)
    accounts = list(sf.records("Account"))
    return [
        sf.add(
            "Opportunity",
            {
                "Name": f"Deal {i}",
                "AccountId": accounts[i % 2],
                "StageName": "Prospecting",
                "CloseDate": "2026-06-30",
                "NextStep": None,
            },
        )
        for i in range(n)
    ]


def submit(service: Service, key: str, record_id: str, **over: object) -> str:
    body = payloads.recommendation(
        workflow="opp-outcomes", record={"sobject": "Opportunity", "id": record_id}, **over
    )
    result = intake.submit(service.rt, token=key, raw=json.dumps(body).encode(), header_key=None)
    return str(result.body["id"])


def items(service: Service) -> list[Item]:
    with service.rt.db.read() as session:
        query = select(Item).where(col(Item.workflow_id) == "opp-outcomes")
        return list(session.exec(query.order_by(col(Item.created_at), col(Item.id))))


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson's bounds found as the roots of |p - k/n| = z sqrt(p(1-p)/n), by bisection."""
    z, phat = 1.959963984540054, k / n

    def root(lo: float, hi: float, rising: bool) -> float:
        for _ in range(200):
            mid = (lo + hi) / 2
            inside = abs(phat - mid) <= z * math.sqrt(mid * (1 - mid) / n)
            lo, hi = (mid, hi) if inside != rising else (lo, mid)
        return (lo + hi) / 2

    low = 0.0 if k == 0 else root(0.0, phat, rising=True)
    high = 1.0 if k == n else root(phat, 1.0, rising=False)
    return low, high


def reference_lift(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """Newcombe (1998) method 10, from the bisection Wilson bounds above."""
    (l1, u1), (l2, u2) = wilson(k1, n1), wilson(k2, n2)
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    return d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def test_holdout_and_lift_end_to_end(service: Service, agent_key: str) -> None:
    rt, sf = service.rt, standin(service)
    rt.clock = lambda: T0
    deals = new_deals(service, 200)
    for record_id in deals:
        submit(service, agent_key, record_id)
    made = items(service)
    held = [i for i in made if i.status == Status.HELD_OUT]
    treated = [i for i in made if i.status != Status.HELD_OUT]
    expected = {d for d in deals if holdout.hash_share("opp-outcomes", d) < 0.1}
    assert {i.record_id for i in held} == expected and len(held) >= MIN_PER_ARM

    # Held out: recorded and checked, never posted, written, reminded or expired.
    service.worker.drain()
    with rt.db.read() as session:
        touched = set(session.exec(select(Outbox.item_id)))
    assert not touched & {i.id for i in held}
    assert {i.id for i in treated} <= touched
    assert all(i.checks and i.card_ts is None and i.next_due_at is None for i in held)
    people = service.integrations.people
    late = timers.sweep(rt, people, T0 + timedelta(days=4))
    assert set(late.expired).isdisjoint({i.id for i in held})

    # Arrival read: one query for 200 records, with the segment through the Account lookup.
    sf.reset_calls()
    first = outcome_reads.sweep(rt, service.integrations.salesforce, T0)
    assert len(first.baselines) == 200 and first.queries == 1
    assert len(sf.calls_matching("GET", "/query")) == 1
    industries = {a: f["Industry"] for a, f in sf.records("Account").items()}
    segment = {i.record_id: i.segment for i in items(service)}
    assert segment == {d: industries[sf.records("Opportunity")[d]["AccountId"]] for d in deals}

    # Salesforce moves: a third of the treated deals and a tenth of the held-out ones advance.
    moved = {str(i.record_id) for i in treated[::3]} | {str(i.record_id) for i in held[::10]}
    for record_id in moved:
        sf.set_field("Opportunity", record_id, "StageName", "Qualification")
    stepped = {str(i.record_id) for i in treated[::2]} | {str(i.record_id) for i in held[::2]}
    for record_id in stepped:
        sf.set_field("Opportunity", record_id, "NextStep", "Call back")

    early = outcome_reads.sweep(rt, service.integrations.salesforce, T0 + WINDOW / 2)
    assert early.outcomes == []
    end = outcome_reads.sweep(rt, service.integrations.salesforce, T0 + WINDOW)
    assert len(end.outcomes) == 200 and end.queries == 1

    with rt.db.read() as session:
        found = {lift.metric: lift for lift in lifts(session, "opp-outcomes")}
        by_segment = segment_lifts(session, "opp-outcomes")
        published = list(session.exec(select(AgentEvent).where(AgentEvent.type == "item.outcome")))
    assert len(published) == 200
    n1, n2 = len(treated), len(held)
    for metric, hit in (("stage_advanced", moved), ("next_step_set", stepped)):
        k1 = sum(i.record_id in hit for i in treated)
        k2 = sum(i.record_id in hit for i in held)
        lift = found[metric]
        assert (lift.treated_n, lift.holdout_n, lift.treated_k, lift.holdout_k) == (n1, n2, k1, k2)
        assert lift.treated_rate == pytest.approx(k1 / n1)
        assert lift.holdout_rate == pytest.approx(k2 / n2)
        d, low, high = reference_lift(k1, n1, k2, n2)
        assert (lift.lift, lift.low, lift.high) == pytest.approx((d, low, high), abs=1e-9)
        assert lift.enough
    shown = json.loads(cli(rt, "outcomes", "--workflow", "opp-outcomes", "--json"))
    assert [m["metric"] for m in shown[0]["metrics"]] == ["next_step_set", "stage_advanced"]
    assert shown[0]["metrics"][1] == found["stage_advanced"].as_dict()
    assert shown[0]["holdout"] == 0.1 and shown[0]["window"] == "14d"
    text = cli(rt, "outcomes")
    stage = found["stage_advanced"]
    assert (
        f"stage_advanced: treated {stage.treated_rate:.0%} ({stage.treated_k}/{n1}) vs holdout "
        f"{stage.holdout_rate:.0%} ({stage.holdout_k}/{n2}): lift {stage.lift * 100:+.1f} pts "
        f"(95% CI {stage.low * 100:+.1f} to {stage.high * 100:+.1f})"
    ) in text

    # /airlock stats and the report carry the same numbers, and break down by segment.
    stats = queries.stats(rt, "opp-outcomes")
    paragraph = stats_text([stats])
    assert f"{n2} held out (never posted or written)" in paragraph
    assert f"• {lift_line(stage)}" in paragraph and stats.lifts == list(found.values())
    assert stats.segment_lifts == by_segment
    rows = [r for r in report_rows(rt) if r.workflow == "opp-outcomes"]
    by_name = {r.segment: r for r in rows}
    assert by_name["all agents"].received == 200
    segments = {
        name.removeprefix("segment "): r for name, r in by_name.items() if "segment " in name
    }
    assert set(segments) == set(by_segment)
    assert sum(r.received for r in segments.values()) == 200

    with rt.db.read() as session:
        detail = queries.workflow_detail(rt, session, "opp-outcomes")  # GET /api/v1/workflows/ID
    assert detail["metrics"]["outcomes"] == [lift.as_dict() for lift in found.values()]
    assert detail["metrics"]["items"]["held_out"] == n2

    # The counters behind stats and report agree with a recount from the rows, held_out included.
    assert stored(rt) == counted(rt)
    assert queries.status_totals(rt)["held_out"] == n2
    assert sum(s[0].treated_n + s[0].holdout_n for s in by_segment.values()) == 200
    assert set(by_segment) == set(
        industries[sf.records("Opportunity")[d]["AccountId"]] for d in deals
    )


def test_given_segment_kept_and_gone_record_meets_nothing(service: Service, agent_key: str) -> None:
    rt, sf = service.rt, standin(service)
    rt.clock = lambda: T0
    kept, gone = new_deals(service, 2)
    first = submit(service, agent_key, kept, segment="EMEA")
    second = submit(service, agent_key, gone)
    outcome_reads.sweep(rt, service.integrations.salesforce, T0)
    sf.set_field("Opportunity", kept, "NextStep", "Demo")
    # The record is deleted in Salesforce during the window (REST DELETE, as a user would).
    url = f"{sf.instance_url}/services/data/v62.0/sobjects/Opportunity/{gone}"
    token = service.integrations.sandbox.salesforce_token
    deleted = httpx.delete(url, headers={"Authorization": f"Bearer {token}"}, trust_env=False)
    assert deleted.status_code == 204 and sf.get("Opportunity", gone) is None
    outcome_reads.sweep(rt, service.integrations.salesforce, T0 + WINDOW)
    mine = {i.id: i for i in items(service)}
    assert mine[first].segment == "EMEA"  # given at intake: segment_by does not replace it
    kept_outcome, gone_outcome = mine[first].outcome or {}, mine[second].outcome or {}
    assert kept_outcome["metrics"] == {"stage_advanced": False, "next_step_set": True}
    assert gone_outcome["metrics"] == {"stage_advanced": False, "next_step_set": False}
    assert gone_outcome["found"] is False
    assert all(i.outcome_due_at is None for i in mine.values())


def test_failed_read_retried_after_the_lease(service: Service, agent_key: str) -> None:
    rt, sf = service.rt, standin(service)
    rt.clock = lambda: T0
    (deal,) = new_deals(service, 1)
    item_id = submit(service, agent_key, deal)
    sf.inject("limit", times=1, match="query")  # the org is over its API limit for a while
    failed = outcome_reads.sweep(rt, service.integrations.salesforce, T0)
    assert failed.baselines == [] and failed.queries == 0
    assert outcome_reads.sweep(rt, service.integrations.salesforce, T0).baselines == []  # leased
    later = T0 + outcome_reads.CLAIM_LEASE
    assert outcome_reads.sweep(rt, service.integrations.salesforce, later).baselines == [item_id]


def test_holdout_arm_same_for_every_form_of_a_record_id(service: Service, agent_key: str) -> None:
    """A record sent as 15 characters, or as 18 in any case, is one record: one arm."""
    service.rt.clock = lambda: T0
    deals = new_deals(service, 30)
    for record_id in deals:
        for form in (record_id, record_id[:15], record_id.lower()):
            submit(service, agent_key, form, idempotency_key=f"arm-{form}")
    arms: dict[str, set[str]] = {}
    for item in items(service):
        arms.setdefault(id_key(item.record_id), set()).add(holdout.arm(item.status))
    assert all(len(found) == 1 for found in arms.values()), arms
    expected = {d for d in deals if holdout.hash_share("opp-outcomes", d) < 0.1}
    assert {d for d, found in arms.items() if found == {holdout.HOLDOUT}} == expected
    assert expected and len(expected) < len(deals)  # both arms drawn: the check can fail
    assert {i.record_id for i in items(service)} == set(deals)  # stored as the 18-character id


def test_outcome_read_for_a_record_sent_as_15_characters(service: Service, agent_key: str) -> None:
    """Salesforce answers with 18-character ids: the read must find the item's record."""
    rt, sf = service.rt, standin(service)
    rt.clock = lambda: T0
    (deal,) = new_deals(service, 1)
    item_id = submit(service, agent_key, deal[:15])
    outcome_reads.sweep(rt, service.integrations.salesforce, T0)
    sf.set_field("Opportunity", deal, "NextStep", "Demo")
    outcome_reads.sweep(rt, service.integrations.salesforce, T0 + WINDOW)
    outcome = {i.id: i.outcome for i in items(service)}[item_id] or {}
    assert outcome["found"] is True
    assert outcome["metrics"] == {"stage_advanced": False, "next_step_set": True}
