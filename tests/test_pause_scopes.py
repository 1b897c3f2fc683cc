"""Scoped stop buttons over signed Slack requests: one agent, one record, `for 2h` (issue 17).

Every moment comes from the runtime's injected clock: no real dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import col, select

from bot.core import keys, scoped_pause
from bot.core.release import release_held
from bot.core.runtime import Runtime
from bot.core.scopes import parse_scope
from bot.service import Service
from models import AgentEvent, Event, PauseScope
from tests import payloads
from tests.conftest import LiveServer
from tests.slack_driver import SlackDriver, wait_for
from tests.test_lifecycle import get
from tests.test_pause_timers import at, sweep
from tests.writeback_support import post

OWNER, REP = "U0OLIVIA", "U0MAYA"
TUESDAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
OTHER_OPP = "006Ai0000000002IAA"  # seeded: Acme Corp - Plant Expansion


@pytest.fixture
def slack(live: LiveServer, service: Service) -> Iterator[SlackDriver]:
    driver = SlackDriver(live.url, service)
    yield driver
    driver.http.close()


def status_of(service: Service, item_id: str) -> str:
    return get(service.rt, item_id).status


def scope_events(service: Service, workflow_id: str) -> list[tuple[str, str, dict[str, object]]]:
    with service.rt.db.read() as session:
        rows = session.exec(
            select(Event)
            .where(col(Event.stream) == f"workflow:{workflow_id}")
            .order_by(col(Event.seq))
        ).all()
    return [(e.type, e.actor, e.data) for e in rows if e.data.get("scope")]


def test_pause_agent_for_2h_holds_its_items_and_resumes_by_itself(
    service: Service, slack: SlackDriver, agent_key: str
) -> None:
    at(service, TUESDAY)
    before = post(service.rt, agent_key, payloads.field_update(idempotency_key="before"))
    with service.rt.db.write() as session:
        _row, other_key = keys.create_key(session, agent="other-agent", workflows=["*"])

    answer = slack.said(OWNER, "pause agent:test-agent for 2h checking prompts")

    assert answer["response_type"] == "in_channel"
    assert "paused `agent:test-agent` (checking prompts)" in answer["text"]
    assert "resumes by itself" in answer["text"]
    held = post(service.rt, agent_key, payloads.field_update(idempotency_key="during"))
    free = post(service.rt, other_key, payloads.field_update(idempotency_key="other"))
    assert (status_of(service, held), status_of(service, free)) == ("held", "pending")
    # The pending item's clocks stand still: no reminder however long the pause lasts.
    assert before not in sweep(service, TUESDAY + timedelta(hours=100)).reminded
    status = slack.said(OWNER, "status")["text"]
    assert "`agent:test-agent` PAUSED by <@U0OLIVIA> (checking prompts) · resumes by itself" in (
        status
    )

    at(service, TUESDAY + timedelta(hours=1, minutes=59))
    service.tick()
    assert status_of(service, held) == "held"
    at(service, TUESDAY + timedelta(hours=2, seconds=1))
    service.tick()

    assert status_of(service, held) == "pending"
    with service.rt.db.read() as session:
        assert session.exec(select(PauseScope)).all() == []
    trail = scope_events(service, "opp-hygiene")
    assert [(t, a) for t, a, _ in trail] == [("paused", "user:U0OLIVIA"), ("resumed", "system")]
    assert trail[0][2]["until"] == (TUESDAY + timedelta(hours=2)).isoformat()
    with service.rt.db.read() as session:  # agents are not told their workflow paused: it did not
        assert session.exec(select(AgentEvent.type)).all() == []
    assert "PAUSED" not in slack.said(OWNER, "status")["text"]


def test_pause_record_holds_only_that_record_until_resumed(
    service: Service, slack: SlackDriver, agent_key: str
) -> None:
    at(service, TUESDAY)
    # A 15-character id names the same record as its 18-character form.
    answer = slack.said(OWNER, f"pause record:{payloads.OPP_ID[:15]}")
    assert f"paused `record:{payloads.OPP_ID}`" in answer["text"]
    held = post(service.rt, agent_key, payloads.field_update(idempotency_key="on-record"))
    elsewhere = payloads.field_update(
        idempotency_key="elsewhere", record={"sobject": "Opportunity", "id": OTHER_OPP}
    )
    assert status_of(service, held) == "held"
    assert status_of(service, post(service.rt, agent_key, elsewhere)) == "pending"
    with service.rt.db.read() as session:
        received = session.exec(
            select(Event).where(col(Event.item_id) == held, col(Event.type) == "received")
        ).one()
    assert received.data["held_by"] == f"record:{payloads.OPP_ID}"
    service.tick()
    assert status_of(service, held) == "held"  # the tick releases nothing a scope covers

    refused = slack.said(REP, f"resume record:{payloads.OPP_ID}")
    assert "only admins and workflow owners can resume" in refused["text"]
    resumed = slack.said(OWNER, f"resume record:{payloads.OPP_ID}")

    assert "1 held item(s) released in order" in resumed["text"]
    assert status_of(service, held) == "pending"
    again = slack.said(OWNER, f"resume record:{payloads.OPP_ID}")
    assert f"record:{payloads.OPP_ID} is not paused" in again["text"]


@pytest.mark.parametrize(
    "sent",
    [payloads.OPP_ID[:15], payloads.OPP_ID.lower()],
    ids=["15-characters", "lower-case-18"],
)
def test_pause_record_holds_any_form_of_its_id_through_the_tick(
    service: Service, api: httpx.Client, sent: str
) -> None:
    """Salesforce reads a 15-character id and a lower-cased 18-character id as the same record:
    the tick must not release an item sent in either form while the record's scope is on."""
    at(service, TUESDAY)
    scope = parse_scope(f"record:{payloads.OPP_ID}")
    assert scoped_pause.pause(service.rt, scope, OWNER, None, None)
    body = payloads.field_update(
        idempotency_key=f"form-{sent}", record={"sobject": "Opportunity", "id": sent}
    )
    created = api.post("/api/v1/items", json=body)
    assert created.status_code == 201, created.text
    held = created.json()["id"]
    assert created.json()["status"] == "held"

    at(service, TUESDAY + timedelta(hours=1))
    service.tick()
    assert status_of(service, held) == "held"
    assert scoped_pause.resume(service.rt, scope, OWNER) == 1
    wait_for(lambda: status_of(service, held) == "pending")  # this call, or the live ticker
    assert get(service.rt, held).record_id == payloads.OPP_ID  # stored in the canonical form


BAD_SCOPES = [
    ("pause record:006XYZ", "not a Salesforce id"),
    ("pause agent:nobody", "no agent named 'nobody' has a key"),
    ("pause agent:test-agent for 2 weeks", "write a duration like 30m, 2h or 3d"),
    ("pause agent:test-agent for 45d", "a scoped pause lasts 1 minute to 30 days"),
]


def test_pause_scope_refuses_bad_input(
    service: Service, slack: SlackDriver, agent_key: str
) -> None:
    for text, error in BAD_SCOPES:  # one live server for all: each case is a request
        answer = slack.said(OWNER, text)
        assert answer["response_type"] == "ephemeral", text
        assert error in answer["text"], text
    with service.rt.db.read() as session:
        assert session.exec(select(PauseScope)).all() == []


def test_pause_agent_needs_owner_of_every_workflow_it_feeds(
    service: Service, slack: SlackDriver, agent_key: str
) -> None:
    answer = slack.said(REP, "pause agent:test-agent")
    assert "only admins and the owners of every workflow test-agent feeds" in answer["text"]
    assert slack.said("U0ADMIN", "pause agent:test-agent")["response_type"] == ("in_channel")


def test_resume_counts_what_it_frees_even_when_the_tick_releases_first(
    service: Service, agent_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler's tick may release a scope's held items between the scope's release and the
    resume's own release pass: the person is still told how many the resume freed."""
    at(service, TUESDAY)
    scope = parse_scope(f"record:{payloads.OPP_ID}")
    assert scoped_pause.pause(service.rt, scope, OWNER, None, None)
    held = post(service.rt, agent_key, payloads.field_update(idempotency_key="raced"))
    assert status_of(service, held) == "held"

    def tick_wins(rt: Runtime, actor: str) -> list[str]:
        release_held(rt, actor="system")  # the tick, just after the scope was released
        return release_held(rt, actor=actor)  # finds nothing left

    monkeypatch.setattr(scoped_pause, "release_held", tick_wins)
    assert scoped_pause.resume(service.rt, scope, OWNER) == 1
    wait_for(lambda: status_of(service, held) == "pending")  # this call, or the live ticker
