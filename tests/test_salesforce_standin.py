"""The Salesforce REST stand-in, driven with plain requests over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SEED_PEOPLE, SalesforceStandin

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
MAYA, SAM = SEED_PEOPLE[3], SEED_PEOPLE[1]
OPP_1, OPP_2 = make_id("Opportunity", 1), make_id("Opportunity", 2)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False
        yield session


def api(standin: SalesforceStandin, path: str) -> str:
    return f"{standin.instance_url}/services/data/v62.0/{path}"


def query(http: requests.Session, standin: SalesforceStandin, soql: str) -> requests.Response:
    return http.get(api(standin, "query/"), params={"q": soql}, headers=AUTH, timeout=5)


def composite(http: requests.Session, standin: SalesforceStandin, **body: Any) -> Any:
    response = http.patch(api(standin, "composite/sobjects"), json=body, headers=AUTH, timeout=5)
    return response.status_code, response.json()


def opp(record_id: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Opportunity"}, "id": record_id, **fields}


def test_make_id_has_case_safe_suffix() -> None:
    assert make_id("Account", 7) == "001Ai0000000007IAA"
    assert make_id("Task", 12)[:3] == "00T" and len(make_id("Task", 12)) == 18


def test_seed_people_match_user_records(standin: SalesforceStandin) -> None:
    users = standin.records("User")
    by_email = {person.email: person for person in SEED_PEOPLE}
    assert {person.role for person in SEED_PEOPLE} == {"admin", "manager", "rep"}
    assert [p.role for p in SEED_PEOPLE].count("rep") == 3
    for person in SEED_PEOPLE:
        user = users[person.salesforce_id]
        assert (user["Email"], user["Name"]) == (person.email, person.name)
        manager = by_email.get(person.manager_email or "")
        assert user["ManagerId"] == (manager.salesforce_id if manager else None)
    assert MAYA.email == "maya.rep@sandbox.airlock.dev" and MAYA.slack_id == "U0MAYA"
    assert len(standin.records("Account")) == 10 and len(standin.records("Opportunity")) == 15


def test_seed_is_deterministic() -> None:
    first, second = SalesforceStandin(), SalesforceStandin()
    assert first.records("Opportunity") == second.records("Opportunity")
    assert SalesforceStandin(seed=False).records("Opportunity") == {}


def test_request_without_token_is_401(standin: SalesforceStandin, http: requests.Session) -> None:
    response = http.get(api(standin, f"sobjects/Opportunity/{OPP_1}"), timeout=5)
    assert response.status_code == 401
    assert response.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_get_record_with_fields(standin: SalesforceStandin, http: requests.Session) -> None:
    url = api(standin, f"sobjects/Opportunity/{OPP_1}")
    body = http.get(url, params={"fields": "StageName,Amount"}, headers=AUTH, timeout=5).json()
    assert set(body) == {"attributes", "StageName", "Amount"}
    assert body["StageName"] == standin.get("Opportunity", OPP_1)["StageName"]  # type: ignore[index]
    assert body["attributes"]["type"] == "Opportunity"


def test_create_patch_delete_record(standin: SalesforceStandin, http: requests.Session) -> None:
    created = http.post(api(standin, "sobjects/Task"), json={"Subject": "Call"}, headers=AUTH)
    assert created.status_code == 201
    task_id = created.json()["id"]
    assert task_id.startswith("00T") and len(task_id) == 18 and created.json()["success"]
    before = standin.get("Task", task_id)
    assert before is not None
    patched = http.patch(
        api(standin, f"sobjects/Task/{task_id}"), json={"Status": "Completed"}, headers=AUTH
    )
    after = standin.get("Task", task_id)
    assert patched.status_code == 204 and after is not None and after["Status"] == "Completed"
    assert after["SystemModstamp"] > before["SystemModstamp"]
    assert http.delete(api(standin, f"sobjects/Task/{task_id}"), headers=AUTH).status_code == 204
    gone = http.get(api(standin, f"sobjects/Task/{task_id}"), headers=AUTH)
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_patch_unknown_field_is_invalid_field(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    url = api(standin, f"sobjects/Opportunity/{OPP_1}")
    response = http.patch(url, json={"Bogus__c": 1}, headers=AUTH, timeout=5)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "Bogus__c" not in standin.get("Opportunity", OPP_1)  # type: ignore[operator]


def test_query_relationship_fields(standin: SalesforceStandin, http: requests.Session) -> None:
    soql = f"SELECT Name, Manager.Email FROM User WHERE Id = '{MAYA.salesforce_id}'"
    body = query(http, standin, soql).json()
    assert body["totalSize"] == 1 and body["done"] is True
    record = body["records"][0]
    assert record["Manager"]["Email"] == SAM.email
    assert record["attributes"]["url"].endswith(f"/sobjects/User/{MAYA.salesforce_id}")


def test_query_where_in_and_limit(standin: SalesforceStandin, http: requests.Session) -> None:
    owner = standin.get("Opportunity", OPP_1)["OwnerId"]  # type: ignore[index]
    soql = (
        "SELECT Id, Owner.Email FROM Opportunity "
        f"WHERE Id IN ('{OPP_1}', '{OPP_2}', '{make_id('Opportunity', 3)}') AND OwnerId = '{owner}'"
    )
    records = query(http, standin, soql).json()["records"]
    assert len(records) == 3 and {r["Owner"]["Email"] for r in records} == {MAYA.email}
    limited = query(http, standin, soql + " LIMIT 1").json()
    assert [r["Id"] for r in limited["records"]] == [OPP_1]


def test_query_text_equality_ignores_case(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    records = query(http, standin, f"SELECT Id FROM User WHERE Email = '{MAYA.email.upper()}'")
    assert [r["Id"] for r in records.json()["records"]] == [MAYA.salesforce_id]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Opportunity WHERE Name = 'a' OR Name = 'b'", "MALFORMED_QUERY"),
        ("SELECT * FROM Opportunity", "MALFORMED_QUERY"),
        ("SELECT Id FROM Opportunity WHERE CloseDate > 2026-01-01", "MALFORMED_QUERY"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Opportunity WHERE Name LIKE 'Acme%'", "MALFORMED_QUERY"),
        ("SELECT Id, Id FROM Opportunity", "MALFORMED_QUERY"),
        ("SELECT Bogus FROM Opportunity", "INVALID_FIELD"),
        ("SELECT Id FROM Task WHERE Description = 'airlock:1'", "INVALID_FIELD"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE"),
    ],
)
def test_query_unsupported_soql_is_refused(
    standin: SalesforceStandin, http: requests.Session, soql: str, code: str
) -> None:
    response = query(http, standin, soql)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code and response.json()[0]["message"]


def test_query_pages_follow_next_records_url(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    standin.query_page_size = 10
    first = query(http, standin, "SELECT Id FROM Opportunity").json()
    assert (first["done"], first["totalSize"], len(first["records"])) == (False, 15, 10)
    rest = http.get(standin.instance_url + first["nextRecordsUrl"], headers=AUTH).json()
    assert rest["done"] is True and len(rest["records"]) == 5
    assert {r["Id"] for r in first["records"] + rest["records"]} == set(
        standin.records("Opportunity")
    )


STAMP = "2027-01-01T00:00:00.000+0000"


def test_composite_patch_partial_success(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    missing = make_id("Opportunity", 999)
    # a read-only field fails its record; an unknown field would fail the whole request
    read_only = opp(OPP_2, SystemModstamp=STAMP)
    records = [opp(OPP_1, NextStep="Send quote"), opp(missing, NextStep="x"), read_only]
    records.append(opp("U0MAYA", NextStep="x"))  # a Slack id where a record id belongs
    status, results = composite(http, standin, allOrNone=False, records=records)
    assert status == 200
    assert results[0] == {"id": OPP_1, "success": True, "errors": []}
    codes = [r["errors"][0]["statusCode"] for r in results[1:]]
    assert codes == ["NOT_FOUND", "INVALID_FIELD_FOR_INSERT_UPDATE", "MALFORMED_ID"]
    assert results[2]["errors"][0]["fields"] == ["SystemModstamp"]
    assert standin.get("Opportunity", OPP_1)["NextStep"] == "Send quote"  # type: ignore[index]


def test_composite_all_or_none_rolls_back(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    before = standin.get("Opportunity", OPP_1)
    records = [opp(OPP_1, NextStep="Send quote"), opp(OPP_2, SystemModstamp=STAMP)]
    _status, results = composite(http, standin, allOrNone=True, records=records)
    codes = [r["errors"][0]["statusCode"] for r in results]
    assert codes == ["ALL_OR_NONE_OPERATION_ROLLED_BACK", "INVALID_FIELD_FOR_INSERT_UPDATE"]
    assert standin.get("Opportunity", OPP_1) == before


def test_composite_over_200_records_is_400(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    status, body = composite(http, standin, allOrNone=False, records=[opp(OPP_1)] * 201)
    assert status == 400 and body[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_limit_header_counts_calls(standin: SalesforceStandin, http: requests.Session) -> None:
    for _ in range(3):
        response = query(http, standin, "SELECT Id FROM Account LIMIT 1")
    assert response.headers["Sforce-Limit-Info"] == "api-usage=3/15000"
    assert standin.counters == {"query": 3} and len(standin.calls_matching("GET", "/query")) == 3
    standin.reset_calls()
    assert (standin.api_calls, standin.calls) == (0, [])


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("503", 503, "SERVER_UNAVAILABLE"),
        ("lock", 400, "UNABLE_TO_LOCK_ROW"),
        ("limit", 403, "REQUEST_LIMIT_EXCEEDED"),
        ("401", 401, "INVALID_SESSION_ID"),
    ],
)
def test_inject_fault_fails_matching_call_only(
    standin: SalesforceStandin, http: requests.Session, fault: str, status: int, code: str
) -> None:
    standin.inject(fault, match="sobjects")
    assert query(http, standin, "SELECT Id FROM Account LIMIT 1").status_code == 200
    url = api(standin, f"sobjects/Opportunity/{OPP_1}")
    failed = http.patch(url, json={"NextStep": "changed"}, headers=AUTH, timeout=5)
    assert (failed.status_code, failed.json()[0]["errorCode"]) == (status, code)
    assert standin.get("Opportunity", OPP_1)["NextStep"] != "changed"  # type: ignore[index]
    assert standin.calls[-1].status == status
    again = http.patch(url, json={"NextStep": "changed"}, headers=AUTH, timeout=5)
    assert again.status_code == (401 if fault == "401" else 204)  # a 401 fault revokes the token


def test_lock_fault_fails_each_composite_record(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    standin.inject("lock", match="composite")
    _status, results = composite(http, standin, allOrNone=False, records=[opp(OPP_1), opp(OPP_2)])
    assert [r["errors"][0]["statusCode"] for r in results] == ["UNABLE_TO_LOCK_ROW"] * 2


def test_timeout_fault_applies_nothing(standin: SalesforceStandin, http: requests.Session) -> None:
    standin.timeout_seconds = 5
    standin.inject("timeout", match="composite")
    body = {"allOrNone": False, "records": [opp(OPP_1, NextStep="late")]}
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        http.patch(api(standin, "composite/sobjects"), json=body, headers=AUTH, timeout=0.2)
    assert time.monotonic() - started < 1
    assert standin.get("Opportunity", OPP_1)["NextStep"] != "late"  # type: ignore[index]


def test_inject_rejects_unknown_fault(standin: SalesforceStandin) -> None:
    with pytest.raises(ValueError, match="fault one of"):
        standin.inject("500")


def test_set_field_stamps_record(standin: SalesforceStandin) -> None:
    before = standin.get("Opportunity", OPP_1)
    standin.set_field("Opportunity", OPP_1, "StageName", "Closed Lost")
    after = standin.get("Opportunity", OPP_1)
    assert before is not None and after is not None and after["StageName"] == "Closed Lost"
    assert after["LastModifiedDate"] > before["LastModifiedDate"] and standin.calls == []


def test_stop_drops_keep_alive_connections(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    assert query(http, standin, "SELECT Id FROM Account LIMIT 1").status_code == 200
    standin.stop()
    with pytest.raises(requests.ConnectionError):
        query(http, standin, "SELECT Id FROM Account LIMIT 1")
    standin.start()  # same port, same records
    assert query(http, standin, "SELECT Id FROM Account LIMIT 1").status_code == 200


def _key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


KEYS = _key_pair()


def _assertion(standin: SalesforceStandin, key: bytes = KEYS[0], **claims: Any) -> str:
    payload: dict[str, Any] = {"iss": "airlock", "sub": MAYA.email, "aud": standin.instance_url}
    payload |= {"exp": int(time.time()) + 180, **claims}
    return jwt.encode(payload, key, algorithm="RS256")


def _token(http: requests.Session, standin: SalesforceStandin, assertion: str) -> Any:
    grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    response = http.post(f"{standin.instance_url}/services/oauth2/token", data=grant, timeout=5)
    return response.status_code, response.json()


def test_token_grant_issues_working_token(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    standin.jwt_public_key, standin.jwt_consumer_key = KEYS[1], "airlock"
    status, body = _token(http, standin, _assertion(standin))
    assert status == 200 and body["instance_url"] == standin.instance_url
    assert body["token_type"] == "Bearer" and body["access_token"] in standin.valid_tokens


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "nobody@example.com"},
        {"iss": "someone-else"},
        {"aud": "https://evil.example"},
        {"exp": int(time.time()) - 60},
    ],
    ids=["unknown user", "unknown consumer", "wrong audience", "expired"],
)
def test_token_grant_refuses_bad_claims(
    standin: SalesforceStandin, http: requests.Session, claims: dict[str, Any]
) -> None:
    standin.jwt_public_key, standin.jwt_consumer_key = KEYS[1], "airlock"
    status, body = _token(http, standin, _assertion(standin, **claims))
    assert (status, body["error"]) == (400, "invalid_grant")
    assert standin.valid_tokens == {DEFAULT_TOKEN}


def test_token_grant_refuses_wrong_key(standin: SalesforceStandin, http: requests.Session) -> None:
    standin.jwt_public_key = KEYS[1]
    status, body = _token(http, standin, _assertion(standin, key=_key_pair()[0]))
    assert (status, body["error"]) == (400, "invalid_grant")
    assert "Signature" in body["error_description"]


LEAD_1, QUEUED_LEAD = make_id("Lead", 1), make_id("Lead", 3)


def test_lead_owner_is_polymorphic(standin: SalesforceStandin, http: requests.Session) -> None:
    # Owner on Lead is the Name object: Email and IsActive yes, ManagerId no (INVALID_FIELD),
    # as in Salesforce (Object Reference, "Name"; SOQL Reference, polymorphic fields).
    refused = query(http, standin, f"SELECT Id, Owner.ManagerId FROM Lead WHERE Id = '{LEAD_1}'")
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "'ManagerId' on entity 'Name'" in refused.json()[0]["message"]
    soql = "SELECT Id, OwnerId, Owner.Email, Owner.Type FROM Lead WHERE Id IN ('{}', '{}')"
    answer = query(http, standin, soql.format(LEAD_1, QUEUED_LEAD))
    owners = {
        row["Id"]: (row["OwnerId"][:3], row["Owner"]["Type"]) for row in answer.json()["records"]
    }
    assert owners == {LEAD_1: ("005", "User"), QUEUED_LEAD: ("00G", "Queue")}
    # an Opportunity's owner is always a User, so its manager can be read through it
    opp = query(http, standin, f"SELECT Owner.ManagerId FROM Opportunity WHERE Id = '{OPP_1}'")
    assert opp.json()["records"][0]["Owner"]["ManagerId"] == SAM.salesforce_id


def test_case_owner_is_polymorphic(standin: SalesforceStandin, http: requests.Session) -> None:
    refused = query(http, standin, "SELECT Owner.ManagerId FROM Case")
    assert (refused.status_code, refused.json()[0]["errorCode"]) == (400, "INVALID_FIELD")
    cases = query(http, standin, "SELECT OwnerId FROM Case").json()["records"]
    assert sorted(row["OwnerId"][:3] for row in cases) == ["005", "005", "00G"]


def test_get_record_by_15_character_id(standin: SalesforceStandin, http: requests.Session) -> None:
    # Salesforce accepts either form of an id and answers with the 18-character one
    url = api(standin, f"sobjects/Opportunity/{OPP_1[:15]}")
    response = http.get(url, headers=AUTH, timeout=5)
    assert (response.status_code, response.json()["Id"]) == (200, OPP_1)
    lower = query(http, standin, f"SELECT Id FROM Opportunity WHERE Id = '{OPP_1.lower()}'")
    assert [row["Id"] for row in lower.json()["records"]] == [OPP_1]


def test_trigger_lock_fault_wraps_unable_to_lock_row(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    # A trigger's DML hitting a locked row reaches the API as the trigger's failure, with
    # UNABLE_TO_LOCK_ROW only inside the message.
    standin.inject("trigger_lock", match="composite")
    _status, results = composite(http, standin, allOrNone=False, records=[opp(OPP_1), opp(OPP_2)])
    errors = [result["errors"][0] for result in results]
    assert [e["statusCode"] for e in errors] == ["CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"] * 2
    assert all("first error: UNABLE_TO_LOCK_ROW" in e["message"] for e in errors)
    assert [r["success"] for r in results] == [False, False]
    standin.inject("trigger_lock", match="sobjects")
    url = api(standin, f"sobjects/Opportunity/{OPP_1}")
    failed = http.patch(url, json={"NextStep": "changed"}, headers=AUTH, timeout=5)
    assert failed.status_code == 400
    assert failed.json()[0]["errorCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert standin.get("Opportunity", OPP_1)["NextStep"] != "changed"  # type: ignore[index]
    again = http.patch(url, json={"NextStep": "changed"}, headers=AUTH, timeout=5)
    assert again.status_code == 204


def test_limits_answer_daily_api_requests(
    standin: SalesforceStandin, http: requests.Session
) -> None:
    standin.api_limit, standin.api_used_elsewhere = 100, 40
    answer = http.get(api(standin, "limits/"), headers=AUTH, timeout=5)
    assert answer.json()["DailyApiRequests"] == {"Max": 100, "Remaining": 59}
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=41/100"
