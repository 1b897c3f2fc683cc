"""The directory over real HTTP: Salesforce owner -> email -> Slack, managers, the Person
cache and its TTL, and the owner fallback with a note."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.core.runtime import Runtime
from bot.salesforce.client import SalesforceClient
from bot.salesforce.directory import Directory, Reviewer
from bot.sandbox.boot import seed_slack_users
from bot.sandbox.salesforce_seed import SEED_PEOPLE, make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.sandbox.slack_standin import SlackStandin, SlackUser
from models import Item
from models.types import utcnow

PEOPLE = {person.slack_id: person for person in SEED_PEOPLE}
MAYA_OPP, LEO_OPP, PRIYA_OPP = (make_id("Opportunity", n) for n in (1, 6, 11))
OWNER = "U0OWNER"


def slack_user(slack_id: str) -> SlackUser:
    person = PEOPLE[slack_id]
    return SlackUser(slack_id, person.email.split("@")[0], person.name, person.email, person.tz)


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    everyone = [slack_user(slack_id) for slack_id in PEOPLE if slack_id != "U0LEO"]
    with SlackStandin(users=everyone) as running:  # Leo has no Slack account
        yield running


class Clock:
    """A clock the test moves forward."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def directory(
    rt: Runtime, client: SalesforceClient, slack: SlackStandin, clock: Clock
) -> Directory:
    web = WebClient(token="xoxb-test", base_url=slack.base_url)
    return Directory(rt.db, client, web, admins=frozenset({"U0OLIVIA"}), clock=clock)


def item(record_id: str | None = None, assignee: str | None = None) -> Item:
    sobject = "Opportunity" if record_id else None
    return Item(
        id="itm_test",
        workflow_id="opp-hygiene",
        workflow_version="v1",
        agent="test-agent",
        agent_key_id="key",
        idempotency_key="k",
        request_hash="h",
        raw=json.dumps({"assignee": assignee}),  # the agent's request; routing resolves it
        raw_hash="h",
        kind="field_update",
        title="Move the stage",
        level="crm_write",
        gate="rep",
        status="pending",
        record_sobject=sobject,
        record_id=record_id,
        assignee=assignee,  # ignored by routing now; kept so the old code reads the same request
    )


def lookups(slack: SlackStandin) -> int:
    return len(slack.calls_to("users.lookupByEmail")) + len(slack.calls_to("users.info"))


@pytest.mark.parametrize(
    ("record_id", "rep", "manager", "tz"),
    [
        (MAYA_OPP, "U0MAYA", "U0SAM", "America/New_York"),
        (PRIYA_OPP, "U0PRIYA", "U0NINA", "Asia/Kolkata"),
    ],
)
def test_resolve_record_owner_and_manager(
    directory: Directory, record_id: str, rep: str, manager: str, tz: str
) -> None:
    found = directory.reviewer_for(item(record_id), OWNER)
    assert found == Reviewer(rep, manager, tz, "record_owner", None)


def test_read_record_owner_in_one_query(directory: Directory, standin: SalesforceStandin) -> None:
    directory.reviewer_for(item(MAYA_OPP), OWNER)
    soql = [call.query["q"] for call in standin.calls_matching("GET", "query")]
    assert len(soql) == 2  # the record's owner, then the owner's manager
    assert "Owner.Email" in soql[0] and "Owner.ManagerId" in soql[0]
    assert "FROM Opportunity" in soql[0] and "FROM User" in soql[1]


def test_cache_person_within_ttl(
    directory: Directory,
    client: SalesforceClient,
    slack: SlackStandin,
    clock: Clock,
) -> None:
    first = directory.reviewer_for(item(MAYA_OPP), OWNER)
    calls, asked = client.api_calls, lookups(slack)
    assert (calls, asked) == (2, 2)
    again = directory.reviewer_for(item(make_id("Opportunity", 2)), OWNER)  # also Maya's
    assert again == first
    # the record's owner is read each time (owners change); the person needs no new lookup
    assert (client.api_calls - calls, lookups(slack) - asked) == (1, 0)
    clock.now += timedelta(hours=13)
    directory.reviewer_for(item(MAYA_OPP), OWNER)
    assert (client.api_calls - calls, lookups(slack) - asked) == (3, 2)


def test_refresh_when_manager_changes(directory: Directory, standin: SalesforceStandin) -> None:
    directory.reviewer_for(item(MAYA_OPP), OWNER)
    maya, nina = PEOPLE["U0MAYA"].salesforce_id, PEOPLE["U0NINA"].salesforce_id
    standin.set_field("User", maya, "ManagerId", nina)
    assert directory.reviewer_for(item(MAYA_OPP), OWNER).manager == "U0NINA"


def test_fall_back_to_owner_for_inactive_user(
    directory: Directory, standin: SalesforceStandin
) -> None:
    standin.set_field("User", PEOPLE["U0MAYA"].salesforce_id, "IsActive", False)
    found = directory.reviewer_for(item(MAYA_OPP), OWNER)
    assert (found.user, found.source, found.manager) == (OWNER, "workflow_owner", None)
    assert found.note is not None
    assert f"record owner {PEOPLE['U0MAYA'].email} is inactive" in found.note


def test_fall_back_to_owner_for_unmapped_email(directory: Directory) -> None:
    found = directory.reviewer_for(item(LEO_OPP), OWNER)
    assert (found.user, found.source) == (OWNER, "workflow_owner")
    assert found.note is not None
    assert PEOPLE["U0LEO"].email in found.note and "users_not_found" in found.note


def test_resolve_owner_given_as_email(directory: Directory) -> None:
    found = directory.reviewer_for(item(LEO_OPP), PEOPLE["U0OLIVIA"].email)
    assert (found.user, found.tz, found.source) == ("U0OLIVIA", "America/Chicago", "workflow_owner")


def test_fall_back_to_admin_when_owner_unreachable(directory: Directory) -> None:
    found = directory.reviewer_for(item(LEO_OPP), "gone@nowhere.example")
    assert (found.user, found.source) == ("U0OLIVIA", "admin")
    assert found.note is not None and "gone@nowhere.example" in found.note


@pytest.mark.parametrize("assignee", ["U0PRIYA", PEOPLE["U0PRIYA"].email])
def test_resolve_explicit_assignee(directory: Directory, assignee: str) -> None:
    found = directory.reviewer_for(item(MAYA_OPP, assignee=assignee), OWNER)
    assert found == Reviewer("U0PRIYA", "U0NINA", "Asia/Kolkata", "assignee", None)


def test_fall_back_for_unknown_assignee(directory: Directory) -> None:
    found = directory.reviewer_for(item(MAYA_OPP, assignee="U0NOBODY"), OWNER)
    assert (found.user, found.source) == (OWNER, "workflow_owner")
    assert found.note is not None and "U0NOBODY" in found.note


def test_route_to_owner_without_salesforce(rt: Runtime, slack: SlackStandin) -> None:
    web = WebClient(token="xoxb-test", base_url=slack.base_url)
    found = Directory(rt.db, None, web).reviewer_for(item(MAYA_OPP), OWNER)
    assert found.user == OWNER
    assert found.note is not None and "no Salesforce connection" in found.note


def test_cache_timezone(directory: Directory, slack: SlackStandin) -> None:
    assert directory.timezone_of("U0PRIYA") == "Asia/Kolkata"
    assert directory.timezone_of("U0PRIYA") == "Asia/Kolkata"
    assert len(slack.calls_to("users.info")) == 1
    assert directory.timezone_of("U0NOBODY") == "UTC"


def test_survive_salesforce_outage(directory: Directory, standin: SalesforceStandin) -> None:
    standin.inject("503", times=1, match="query")
    found = directory.reviewer_for(item(MAYA_OPP), OWNER)
    assert found.user == OWNER
    assert found.note is not None and "could not read the owner" in found.note


def test_timezone_cached_only_never_calls_slack(rt: Runtime) -> None:
    with SlackStandin(users=seed_slack_users()) as slack:
        directory = Directory(rt.db, None, WebClient(token="xoxb-t", base_url=slack.base_url))
        assert directory.timezone_of("U0PRIYA", cached_only=True) == "UTC"
        assert slack.calls_to("users.info") == []
        assert directory.timezone_of("U0PRIYA") == "Asia/Kolkata"
        assert directory.timezone_of("U0PRIYA", cached_only=True) == "Asia/Kolkata"
        assert len(slack.calls_to("users.info")) == 1


LEAD_MAYA, LEAD_LEO, LEAD_QUEUED = (make_id("Lead", n) for n in (1, 2, 3))
CASE_LEO, CASE_MAYA, CASE_QUEUED = (make_id("Case", n) for n in (1, 2, 3))
QUEUE = make_id("Group", 1)


def on(sobject: str, record_id: str) -> Item:
    found = item(record_id)
    found.record_sobject = sobject
    return found


@pytest.mark.parametrize(
    ("sobject", "record_id", "rep", "manager", "tz"),
    [
        ("Lead", LEAD_MAYA, "U0MAYA", "U0SAM", "America/New_York"),
        ("Case", CASE_MAYA, "U0MAYA", "U0SAM", "America/New_York"),
    ],
)
def test_resolve_polymorphic_owner_and_manager(
    directory: Directory,
    standin: SalesforceStandin,
    sobject: str,
    record_id: str,
    rep: str,
    manager: str,
    tz: str,
) -> None:
    # Lead and Case owners may be queues: Owner.ManagerId does not exist there, so the owner's
    # id is read first and then the User
    found = directory.reviewer_for(on(sobject, record_id), OWNER)
    assert found == Reviewer(rep, manager, tz, "record_owner", None)
    soql = [call.query["q"] for call in standin.calls_matching("GET", "query")]
    assert all("Owner." not in text for text in soql if f"FROM {sobject}" in text)


@pytest.mark.parametrize(("sobject", "record_id"), [("Lead", LEAD_QUEUED), ("Case", CASE_QUEUED)])
def test_fall_back_with_note_for_queue_owner(
    directory: Directory, standin: SalesforceStandin, sobject: str, record_id: str
) -> None:
    found = directory.reviewer_for(on(sobject, record_id), OWNER)
    assert (found.user, found.source, found.manager) == (OWNER, "workflow_owner", None)
    assert found.note is not None
    assert f"{sobject} {record_id} is owned by queue {QUEUE}" in found.note
    soql = [call.query["q"] for call in standin.calls_matching("GET", "query")]
    assert not [text for text in soql if "FROM User" in text]  # a queue is not looked up


def test_fall_back_for_inactive_lead_owner(
    directory: Directory, standin: SalesforceStandin
) -> None:
    standin.set_field("User", PEOPLE["U0MAYA"].salesforce_id, "IsActive", False)
    found = directory.reviewer_for(on("Lead", LEAD_MAYA), OWNER)
    assert (found.user, found.source) == (OWNER, "workflow_owner")
    assert found.note is not None
    assert f"record owner {PEOPLE['U0MAYA'].email} is inactive" in found.note


def test_fall_back_for_lead_owner_without_slack(directory: Directory) -> None:
    for record in (on("Lead", LEAD_LEO), on("Case", CASE_LEO)):
        found = directory.reviewer_for(record, OWNER)
        assert (found.user, found.source) == (OWNER, "workflow_owner")
        assert found.note is not None and PEOPLE["U0LEO"].email in found.note


def deactivate(slack: SlackStandin, slack_id: str) -> None:
    slack.add_user(replace(slack_user(slack_id), deleted=True))


def test_fall_back_for_deactivated_assignee(directory: Directory, slack: SlackStandin) -> None:
    deactivate(slack, "U0PRIYA")
    found = directory.reviewer_for(item(MAYA_OPP, assignee="U0PRIYA"), OWNER)
    assert (found.user, found.source) == (OWNER, "workflow_owner")
    assert found.note is not None and "deactivated in Slack" in found.note


def test_fall_back_for_deactivated_record_owner(directory: Directory, slack: SlackStandin) -> None:
    deactivate(slack, "U0MAYA")
    found = directory.reviewer_for(item(MAYA_OPP), OWNER)
    assert (found.user, found.source) == (OWNER, "workflow_owner")
    assert found.note is not None and "deactivated in Slack" in found.note


def test_fall_back_once_slack_says_deactivated(
    directory: Directory, slack: SlackStandin, clock: Clock
) -> None:
    assert directory.reviewer_for(item(MAYA_OPP, assignee="U0PRIYA"), OWNER).user == "U0PRIYA"
    deactivate(slack, "U0PRIYA")
    clock.now += timedelta(hours=13)
    assert directory.timezone_of("U0PRIYA") == "Asia/Kolkata"  # a reminder's look-up
    found = directory.reviewer_for(item(MAYA_OPP, assignee="U0PRIYA"), OWNER)
    assert (found.user, found.source) == (OWNER, "workflow_owner")
    assert found.note is not None and "deactivated in Slack" in found.note


def test_timezone_lookup_does_not_keep_stale_manager(
    directory: Directory, standin: SalesforceStandin, clock: Clock
) -> None:
    assert directory.reviewer_for(item(MAYA_OPP, assignee="U0MAYA"), OWNER).manager == "U0SAM"
    standin.set_field("User", PEOPLE["U0MAYA"].salesforce_id, "ManagerId", None)
    clock.now += timedelta(hours=13)
    directory.timezone_of("U0MAYA")  # a reminder's time-zone lookup
    found = directory.reviewer_for(item(MAYA_OPP, assignee="U0MAYA"), OWNER)
    assert (found.user, found.manager) == ("U0MAYA", None)


def test_resolve_owner_email_to_slack_id(directory: Directory, slack: SlackStandin) -> None:
    assert directory.resolve_owner(PEOPLE["U0OLIVIA"].email) == "U0OLIVIA"
    with pytest.raises(ValueError, match="users_not_found"):
        directory.resolve_owner("gone@nowhere.example")
    deactivate(slack, "U0OLIVIA")
    with pytest.raises(ValueError, match="deactivated"):
        directory.resolve_owner("U0OLIVIA")
