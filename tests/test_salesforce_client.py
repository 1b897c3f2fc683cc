"""Airlock's Salesforce client against the stand-in, over real HTTP (an http:// instance URL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.base.config import ConfigError, load_settings
from bot.salesforce.client import (
    RecordResult,
    SalesforceClient,
    SalesforceConfig,
    SalesforceError,
    classify,
    config_from_settings,
    soql_literal,
)
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SEED_PEOPLE, SalesforceStandin

ADMIN, SAM, MAYA = SEED_PEOPLE[0], SEED_PEOPLE[1], SEED_PEOPLE[3]
OPPS = [make_id("Opportunity", number) for number in (1, 2, 3)]
CONSUMER_KEY = "airlock-sandbox-app"


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


KEY = _private_key()


@pytest.fixture
def client(standin: SalesforceStandin) -> Iterator[SalesforceClient]:
    config = SalesforceConfig(standin.instance_url, access_token=DEFAULT_TOKEN, timeout=2.0)
    sf = SalesforceClient(config)
    yield sf
    sf.close()


def jwt_client(
    standin: SalesforceStandin, tmp_path: Path, signing_key: rsa.RSAPrivateKey = KEY, **extra: str
) -> SalesforceClient:
    """A client on the JWT bearer flow; the stand-in trusts KEY's public half."""
    standin.jwt_public_key = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    standin.jwt_consumer_key = CONSUMER_KEY
    key_file = tmp_path / "airlock.key"
    key_file.write_bytes(_pem(signing_key))
    # Without an access token the instance URL is a placeholder: the login answers the real one.
    settings = {"username": ADMIN.email, "consumer_key": CONSUMER_KEY}
    settings |= {"instance_url": "https://example.invalid", "login_url": standin.instance_url}
    return SalesforceClient(
        SalesforceConfig(private_key_file=key_file, timeout=2.0, **(settings | extra))
    )


def test_create_record_with_access_token(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    task_id = client.create("Task", {"Subject": "Follow up on pricing", "WhatId": OPPS[0]})
    task = standin.get("Task", task_id)
    assert task_id.startswith("00T") and task is not None
    assert (task["Subject"], task["WhatId"]) == ("Follow up on pricing", OPPS[0])


def test_read_fields_is_one_query(standin: SalesforceStandin, client: SalesforceClient) -> None:
    standin.reset_calls()
    values = client.read_fields("Opportunity", [*OPPS, OPPS[0]], ["StageName", "Owner.Email"])
    assert [call.path for call in standin.calls] == ["/services/data/v62.0/query/"]
    assert set(values) == set(OPPS)
    first = standin.get("Opportunity", OPPS[0])
    assert first is not None
    assert values[OPPS[0]] == {"Id": OPPS[0], "StageName": first["StageName"]} | {
        "Owner.Email": MAYA.email
    }


def test_read_fields_refuses_a_non_id(standin: SalesforceStandin, client: SalesforceClient) -> None:
    standin.reset_calls()
    with pytest.raises(ValueError, match="not a Salesforce id"):
        client.read_fields("Opportunity", ["006') OR Name != ('"], ["StageName"])
    assert standin.calls == []


def test_update_records_partial_success(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    missing = make_id("Opportunity", 999)
    standin.reset_calls()
    results = client.update_records(
        "Opportunity",
        [
            {"Id": OPPS[0], "StageName": "Negotiation/Review"},
            {"Id": missing, "StageName": "Closed Won"},
            {"Id": OPPS[1], "SystemModstamp": "2027-01-01T00:00:00.000+0000"},  # read-only
        ],
    )
    assert results[0] == RecordResult(OPPS[0], True)
    assert (results[1].id, results[1].error_code, results[1].kind) == (
        missing,
        "NOT_FOUND",
        "fatal",
    )
    assert (results[2].error_code, results[2].kind) == ("INVALID_FIELD_FOR_INSERT_UPDATE", "fatal")
    assert "SystemModstamp" in (results[2].message or "")
    assert standin.get("Opportunity", OPPS[0])["StageName"] == "Negotiation/Review"  # type: ignore[index]
    assert len(standin.calls_matching("PATCH", "composite/sobjects")) == len(standin.calls) == 1


def test_update_records_refuses_more_than_200(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.reset_calls()
    with pytest.raises(ValueError, match="at most 200"):
        client.update_records("Opportunity", [{"Id": OPPS[0], "NextStep": "x"}] * 201)
    assert standin.calls == []


def test_query_follows_next_records_url(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.query_page_size = 4
    standin.reset_calls()
    records = client.query("SELECT Id, Owner.Email FROM Opportunity")
    assert {record["Id"] for record in records} == set(standin.records("Opportunity"))
    assert len(standin.calls) == 4 and "attributes" not in records[0]
    assert "attributes" not in records[0]["Owner"]


def test_find_one_matches_escaped_marker(client: SalesforceClient) -> None:
    marker = "airlock:item-7 it's a \\ 'quoted' marker"
    task_id = client.create("Task", {"Subject": marker})
    assert client.find_one("Task", "Subject", marker, ["Subject"]) == {
        "Id": task_id,
        "Subject": marker,
    }
    assert client.find_one("Task", "Subject", "airlock:item-8") is None


def test_get_user_returns_manager(client: SalesforceClient) -> None:
    user = client.get_user(MAYA.salesforce_id[:15])  # a 15-character id finds the user too
    assert user == {
        **{"Id": MAYA.salesforce_id, "Name": MAYA.name, "Email": MAYA.email},
        **{"IsActive": True, "ManagerId": SAM.salesforce_id},
    }
    assert client.get_user(make_id("User", 99)) is None


@pytest.mark.parametrize(
    ("fault", "kind", "status", "code"),
    [
        ("503", "retryable", 503, "SERVER_UNAVAILABLE"),
        ("lock", "retryable", 400, "UNABLE_TO_LOCK_ROW"),
        ("limit", "limit", 403, "REQUEST_LIMIT_EXCEEDED"),
        ("401", "auth", 401, "INVALID_SESSION_ID"),
    ],
)
def test_fault_is_classified(
    standin: SalesforceStandin,
    client: SalesforceClient,
    fault: str,
    kind: str,
    status: int,
    code: str,
) -> None:
    standin.inject(fault, match="query")
    with pytest.raises(SalesforceError) as caught:
        client.query("SELECT Id FROM Account")
    assert (caught.value.kind, caught.value.status, caught.value.error_code) == (kind, status, code)
    assert caught.value.message


def test_invalid_field_is_fatal_with_message(client: SalesforceClient) -> None:
    with pytest.raises(SalesforceError) as caught:
        client.create("Task", {"Subject": "x", "Nope__c": 1})
    assert (caught.value.kind, caught.value.error_code) == ("fatal", "INVALID_FIELD")
    assert "Nope__c" in caught.value.message


def test_lock_fault_makes_records_retryable(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.inject("lock", match="composite")
    results = client.update_records("Opportunity", [{"Id": OPPS[0], "NextStep": "locked"}])
    assert [(r.success, r.error_code, r.kind) for r in results] == [
        (False, "UNABLE_TO_LOCK_ROW", "retryable")
    ]
    assert standin.get("Opportunity", OPPS[0])["NextStep"] != "locked"  # type: ignore[index]


def test_timeout_is_retryable_within_client_timeout(standin: SalesforceStandin) -> None:
    standin.timeout_seconds = 3.0
    standin.inject("timeout", match="composite")
    config = SalesforceConfig(standin.instance_url, access_token=DEFAULT_TOKEN, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(SalesforceError) as caught:
        SalesforceClient(config).update_records("Opportunity", [{"Id": OPPS[0], "NextStep": "t"}])
    assert 0.25 < time.monotonic() - started < 1.0
    assert (caught.value.kind, caught.value.status) == ("retryable", None)
    assert standin.get("Opportunity", OPPS[0])["NextStep"] != "t"  # type: ignore[index]


def test_unreachable_server_is_retryable(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.stop()
    with pytest.raises(SalesforceError) as caught:
        client.get_user(MAYA.salesforce_id)
    assert caught.value.kind == "retryable"
    standin.start()
    assert client.get_user(MAYA.salesforce_id) is not None


def test_access_token_401_without_jwt_raises_auth(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.inject("401")
    standin.reset_calls()
    with pytest.raises(SalesforceError) as caught:
        client.get_user(MAYA.salesforce_id)
    assert caught.value.kind == "auth" and len(standin.calls) == 1


def test_401_reauthenticates_once_via_jwt(standin: SalesforceStandin, tmp_path: Path) -> None:
    client = jwt_client(standin, tmp_path)
    assert client.get_user(MAYA.salesforce_id) is not None  # first call logs in
    standin.inject("401")
    user = client.get_user(SAM.salesforce_id)
    assert user is not None and user["Email"] == SAM.email
    assert len(standin.calls_matching("POST", "/services/oauth2/token")) == 2
    assert [call.status for call in standin.calls_matching("GET", "/query")] == [200, 401, 200]


def test_second_401_raises_auth(standin: SalesforceStandin, tmp_path: Path) -> None:
    client = jwt_client(
        standin, tmp_path, access_token=DEFAULT_TOKEN, instance_url=standin.instance_url
    )
    standin.inject("401", times=2)
    with pytest.raises(SalesforceError) as caught:
        client.update_records("Opportunity", [{"Id": OPPS[0], "NextStep": "never"}])
    assert caught.value.kind == "auth"
    assert len(standin.calls_matching("POST", "/services/oauth2/token")) == 1
    assert len(standin.calls_matching("PATCH", "composite")) == 2


def test_shared_client_logs_in_again_once(standin: SalesforceStandin, tmp_path: Path) -> None:
    client = jwt_client(standin, tmp_path)
    client.get_user(ADMIN.salesforce_id)
    standin.inject("401")  # revokes the token every thread shares

    def work(number: int) -> list[bool]:
        record = {"Id": OPPS[number % 3], "NextStep": f"step {number}"}
        return [result.success for result in client.update_records("Opportunity", [record])]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(work, range(24)))
    assert outcomes == [[True]] * 24
    assert len(standin.calls_matching("POST", "/services/oauth2/token")) == 2
    assert client.api_calls == standin.api_calls


@pytest.mark.parametrize("case", ["wrong key", "unknown user"])
def test_bad_jwt_is_refused(standin: SalesforceStandin, tmp_path: Path, case: str) -> None:
    if case == "wrong key":
        client = jwt_client(standin, tmp_path, signing_key=_private_key())
    else:
        client = jwt_client(standin, tmp_path, username="nobody@sandbox.airlock.dev")
    with pytest.raises(SalesforceError) as caught:
        client.query("SELECT Id FROM Account")
    assert (caught.value.kind, caught.value.error_code) == ("auth", "invalid_grant")
    assert standin.valid_tokens == {DEFAULT_TOKEN}
    assert len(standin.calls_matching("POST", "/services/oauth2/token")) == 1
    assert standin.calls_matching("GET", "/query") == []


def test_unreadable_private_key_is_auth_error(standin: SalesforceStandin, tmp_path: Path) -> None:
    missing = tmp_path / "missing.key"
    config = SalesforceConfig(standin.instance_url, username=ADMIN.email, consumer_key=CONSUMER_KEY)
    client = SalesforceClient(replace(config, private_key_file=missing))
    with pytest.raises(SalesforceError) as caught:
        client.query("SELECT Id FROM Account")
    assert caught.value.kind == "auth" and "missing.key" in caught.value.message
    assert standin.calls == []


def test_proxy_environment_is_ignored(
    standin: SalesforceStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A dead proxy: a client that honoured the environment would fail every call.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = SalesforceClient(SalesforceConfig(standin.instance_url, access_token=DEFAULT_TOKEN))
    assert client.get_user(MAYA.salesforce_id) is not None


def test_counts_calls_and_reads_limit_info(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    client.query("SELECT Id FROM Account")
    client.get_user(MAYA.salesforce_id)
    assert client.api_calls == 2
    assert client.last_limit_info is not None
    assert (client.last_limit_info.used, client.last_limit_info.total) == (standin.api_calls, 15000)


def test_config_without_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="access_token"):
        SalesforceClient(SalesforceConfig("https://example.my.salesforce.com"))


def test_soql_literal_escapes_strings() -> None:
    assert soql_literal("O'Brien \\ x\n") == "'O\\'Brien \\\\ x\\n'"
    assert [soql_literal(v) for v in (None, True, 3, 1e20, 0.5)] == [
        *("null", "true", "3"),
        *("100000000000000000000", "0.5"),
    ]


def test_classify_error_codes() -> None:
    assert classify("UNABLE_TO_LOCK_ROW", 400) == "retryable"
    assert classify("REQUEST_LIMIT_EXCEEDED", 403) == "limit"
    assert classify(None, 502) == "retryable"
    assert classify("INVALID_SESSION_ID", 401) == "auth"
    assert classify("FIELD_CUSTOM_VALIDATION_EXCEPTION", 400) == "fatal"
    assert classify("INVALID_FIELD") == "fatal"


def _audience(standin: SalesforceStandin) -> str:
    [login] = standin.calls_matching("POST", "/services/oauth2/token")
    claims = jwt.decode(login.body["assertion"], options={"verify_signature": False})
    return str(claims["aud"])


def test_jwt_audience_is_login_url_when_token_comes_from_my_domain(
    standin: SalesforceStandin, tmp_path: Path
) -> None:
    # The token is requested from the org's own host, the audience stays login.salesforce.com
    # (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration").
    client = jwt_client(
        standin, tmp_path, login_url="https://login.salesforce.com", token_url=standin.instance_url
    )
    assert client.get_user(MAYA.salesforce_id) is not None
    assert _audience(standin) == "https://login.salesforce.com"


def test_jwt_audience_is_set_apart_from_token_host(
    standin: SalesforceStandin, tmp_path: Path
) -> None:
    my_domain = "https://acme.my.salesforce.com"
    standin.jwt_audiences = {my_domain}  # this org accepts only its My Domain as audience
    client = jwt_client(standin, tmp_path, jwt_audience=my_domain)
    assert client.get_user(MAYA.salesforce_id) is not None
    assert _audience(standin) == my_domain


def test_jwt_wrong_audience_is_refused(standin: SalesforceStandin, tmp_path: Path) -> None:
    standin.jwt_audiences = {"https://acme.my.salesforce.com"}
    client = jwt_client(standin, tmp_path, jwt_audience="https://login.salesforce.com")
    with pytest.raises(SalesforceError) as caught:
        client.get_user(MAYA.salesforce_id)
    assert (caught.value.kind, caught.value.error_code) == ("auth", "invalid_grant")


def test_jwt_audience_and_token_url_settings(tmp_path: Path) -> None:
    key_file = tmp_path / "airlock.key"
    key_file.write_bytes(_pem(KEY))
    env = {
        "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
        "SALESFORCE_USERNAME": ADMIN.email,
        "SALESFORCE_CONSUMER_KEY": CONSUMER_KEY,
        "SALESFORCE_PRIVATE_KEY_FILE": str(key_file),
        "SALESFORCE_LOGIN_URL": "https://test.salesforce.com",
    }
    default = config_from_settings(load_settings(_env_file=None, **env))
    assert default.audience == "https://test.salesforce.com"
    assert default.token_endpoint == "https://test.salesforce.com/services/oauth2/token"
    env |= {"SALESFORCE_JWT_AUDIENCE": "https://acme.my.salesforce.com"}
    env |= {"SALESFORCE_TOKEN_URL": "https://acme.my.salesforce.com/"}
    both = config_from_settings(load_settings(_env_file=None, **env))
    assert both.audience == "https://acme.my.salesforce.com"
    assert both.token_endpoint == "https://acme.my.salesforce.com/services/oauth2/token"
    with pytest.raises(ConfigError, match="SALESFORCE_TOKEN_URL"):
        load_settings(_env_file=None, **(env | {"SALESFORCE_TOKEN_URL": "acme.my.salesforce.com"}))
