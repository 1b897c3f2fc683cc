"""Intake refuses a record Salesforce does not have (422), reads once per sObject, caches."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.salesforce.errors import SalesforceError
from bot.salesforce.ids import to_18
from bot.salesforce.record_check import RecordCheck, RecordNotFound
from bot.salesforce.transport import LimitInfo
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.sandbox.samples import GLOBEX_OPP_ID, PLANT_OPP_ID, UMBRELLA_OPP_ID
from bot.service import Service
from tests import payloads
from tests.conftest import LiveServer
from tests.test_intake_api import assert_problem, item_count

MISSING_OPP = "006Ai0000000999IAA"  # an Opportunity id shape the seed does not have
EXISTS = "SELECT Id FROM Opportunity WHERE Id IN"


class FakeOrg:
    """A Querier over a set of 18-character ids; `gate` holds queries until it is set."""

    def __init__(self, ids: set[str]) -> None:
        self.ids = ids
        self.queries: list[str] = []
        self.last_limit_info: LimitInfo | None = None
        self.gate = threading.Event()
        self.gate.set()
        self.fail: Exception | None = None

    def query(self, soql: str) -> list[dict[str, Any]]:
        self.queries.append(soql)
        self.gate.wait(10)
        if self.fail is not None:
            raise self.fail
        return [{"Id": record_id} for record_id in sorted(self.ids) if record_id in soql]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def checker(org: FakeOrg, clock: Clock | None = None) -> RecordCheck:
    return RecordCheck(client=org, clock=clock or Clock(), usage_ceiling=0.9)


def test_require_missing_names_id_and_object() -> None:
    check = checker(FakeOrg({payloads.OPP_ID}))
    with pytest.raises(RecordNotFound) as caught:
        check.require("Opportunity", MISSING_OPP)
    assert caught.value.status == 422
    assert MISSING_OPP in caught.value.detail and "Opportunity" in caught.value.detail


def test_require_existing_any_id_form_one_cache_entry() -> None:
    org = FakeOrg({payloads.OPP_ID})
    check = checker(org)
    assert check.require("Opportunity", payloads.OPP_ID[:15]) is None
    # The 18-character form, even lower-cased (its suffix restores the case), is the same record.
    assert check.require("Opportunity", payloads.OPP_ID.lower()) is None
    assert not check.needs_check("Opportunity", payloads.OPP_ID)
    assert len(org.queries) == 1
    assert org.queries[0] == f"{EXISTS} ('{payloads.OPP_ID}')"


def test_require_fifteen_chars_compare_case() -> None:
    # 15-character ids are case-sensitive: another case is another (missing) record.
    check = checker(FakeOrg({payloads.OPP_ID}))
    with pytest.raises(RecordNotFound):
        check.require("Opportunity", payloads.OPP_ID[:15].lower())


def test_require_bad_checksum_refused_without_call() -> None:
    org = FakeOrg({payloads.OPP_ID})
    with pytest.raises(RecordNotFound):
        checker(org).require("Opportunity", payloads.OPP_ID[:15] + "999")
    assert org.queries == []


def test_cache_found_long_missing_briefly() -> None:
    org, clock = FakeOrg({payloads.OPP_ID}), Clock()
    check = checker(org, clock)
    check.require("Opportunity", payloads.OPP_ID)
    with pytest.raises(RecordNotFound):
        check.require("Opportunity", MISSING_OPP)
    assert len(org.queries) == 2
    clock.now += check.missing_ttl + 1
    org.ids.add(MISSING_OPP)  # created since: accepted once the short negative entry expired
    assert check.require("Opportunity", MISSING_OPP) is None
    assert check.require("Opportunity", payloads.OPP_ID) is None  # still cached
    assert len(org.queries) == 3
    clock.now += check.found_ttl
    check.require("Opportunity", payloads.OPP_ID)
    assert len(org.queries) == 4


def test_concurrent_intakes_share_one_read() -> None:
    others = [f"006Ai00000001{n:02d}" for n in range(5)]
    org = FakeOrg({payloads.OPP_ID, *(to_18(i) for i in others)})
    check = checker(org)
    org.gate.clear()  # the first read is slow: everyone arriving meanwhile waits for the next
    first = threading.Thread(target=check.require, args=("Opportunity", payloads.OPP_ID))
    first.start()
    _wait_until(lambda: len(org.queries) == 1)
    results: list[str | None] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(check.require("Opportunity", i)))
        for i in others
    ]
    for thread in threads:
        thread.start()
    _wait_until(lambda: check.queued == len(others))
    org.gate.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert results == [None] * len(others)
    assert len(org.queries) == 2  # N intakes of one sObject: one read for all of them
    assert all(to_18(i) in org.queries[1] for i in others)


def test_reader_crash_is_not_a_missing_record() -> None:
    org = FakeOrg({payloads.OPP_ID, PLANT_OPP_ID, GLOBEX_OPP_ID})
    check = checker(org)
    org.gate.clear()
    outcomes: list[str] = []

    def require(record_id: str) -> None:
        try:
            outcomes.append(str(check.require("Opportunity", record_id)))
        except RecordNotFound:
            outcomes.append("422")
        except RuntimeError:
            outcomes.append("crashed")

    first = threading.Thread(target=require, args=(payloads.OPP_ID,))
    first.start()
    _wait_until(lambda: len(org.queries) == 1)
    waiting = [threading.Thread(target=require, args=(i,)) for i in (PLANT_OPP_ID, GLOBEX_OPP_ID)]
    for thread in waiting:
        thread.start()
    _wait_until(lambda: check.queued == 2)  # both wait on the next read
    org.fail = RuntimeError("a bug")
    org.gate.set()
    for thread in [first, *waiting]:
        thread.join(10)
    # The readers crash; whoever waited on a crashed read is accepted unchecked, never a 422.
    assert "422" not in outcomes and outcomes.count("crashed") == 2, outcomes
    assert any(o.startswith("not checked: the existence read failed") for o in outcomes)


def test_outage_accepts_unchecked_and_rests() -> None:
    org, clock = FakeOrg(set()), Clock()
    check = checker(org, clock)
    org.fail = SalesforceError("retryable", "Salesforce unreachable: timed out")
    note = check.require("Opportunity", MISSING_OPP)
    assert note is not None and "not checked" in note and "unreachable" in note
    # While resting, no intake waits on Salesforce again.
    assert "not checked" in str(check.require("Opportunity", payloads.OPP_ID))
    assert len(org.queries) == 1
    clock.now += check.rest_after + 1
    org.fail = None
    with pytest.raises(RecordNotFound):
        check.require("Opportunity", MISSING_OPP)


def test_usage_over_ceiling_skips_read() -> None:
    org = FakeOrg(set())
    org.last_limit_info = LimitInfo(used=95, total=100)
    note = checker(org).require("Opportunity", MISSING_OPP)
    assert note is not None and "95%" in note
    assert org.queries == []


def _wait_until(condition: Any, seconds: float = 10.0) -> None:
    done = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("condition not reached")


# Over real HTTP, with the Salesforce stand-in (SQLite and PostgreSQL).


@pytest.fixture
def org(service: Service) -> Iterator[SalesforceStandin]:
    standin = service.integrations.sandbox.salesforce
    assert standin is not None
    standin.reset_calls()
    yield standin


def existence_reads(org: SalesforceStandin) -> list[str]:
    calls = org.calls_matching("GET", "/query")
    return [c.query.get("q", "") for c in calls if c.query.get("q", "").startswith(EXISTS)]


def field_update(record_id: str, key: str) -> dict[str, Any]:
    body = payloads.field_update()
    body["record"]["id"], body["idempotency_key"] = record_id, key
    return body


def test_create_item_missing_record_422(api: httpx.Client, rt: Any, org: SalesforceStandin) -> None:
    response = api.post("/api/v1/items", json=field_update(MISSING_OPP, "k1"))
    body = assert_problem(response, 422, MISSING_OPP)
    assert "Opportunity" in body["detail"]
    assert body["errors"][0]["field"] == "record.id"
    assert item_count(rt) == 0


def test_create_item_existing_record_read_once(
    api: httpx.Client, rt: Any, org: SalesforceStandin
) -> None:
    for key in ("k1", "k2"):
        response = api.post("/api/v1/items", json=field_update(payloads.OPP_ID[:15], key))
        assert response.status_code == 201, response.text
    assert existence_reads(org) == [f"{EXISTS} ('{payloads.OPP_ID}')"]  # then the cache
    assert item_count(rt) == 2


def test_create_item_burst_one_read(
    live: LiveServer, api: httpx.Client, rt: Any, org: SalesforceStandin
) -> None:
    org.set_delay("query", 0.5)
    ids = [PLANT_OPP_ID, GLOBEX_OPP_ID, UMBRELLA_OPP_ID]
    answers: list[int] = []

    def post(record_id: str) -> None:
        answers.append(
            api.post("/api/v1/items", json=field_update(record_id, record_id)).status_code
        )

    first = threading.Thread(target=post, args=(payloads.OPP_ID,))
    first.start()
    _wait_until(lambda: len(existence_reads(org)) == 1)
    threads = [threading.Thread(target=post, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    _wait_until(lambda: rt.records.queued == len(ids))
    for thread in [first, *threads]:
        thread.join(15)
    org.set_delay("query", 0)
    assert answers == [201] * 4
    reads = existence_reads(org)
    assert len(reads) == 2 and all(i in reads[1] for i in ids)


def test_create_item_outage_accepted_and_audited(
    api: httpx.Client, rt: Any, org: SalesforceStandin
) -> None:
    org.inject("503", times=1, match="query")
    response = api.post("/api/v1/items", json=field_update(MISSING_OPP, "k1"))
    assert response.status_code == 201, response.text
    trace = api.get(f"/api/v1/items/{response.json()['id']}").json()["trace"]
    received = trace[0]
    assert received["type"] == "received"
    assert received["data"]["record_check"].startswith("not checked: Salesforce did not answer")
