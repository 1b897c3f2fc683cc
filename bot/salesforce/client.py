"""Airlock's Salesforce client: simple-salesforce plus timeouts, one re-auth, classified errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import jwt
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError as SimpleSalesforceError

from bot.salesforce.config import SalesforceConfig, config_from_settings
from bot.salesforce.errors import (
    ErrorKind,
    RecordResult,
    SalesforceError,
    classify,
    error_details,
    json_or_text,
    record_result,
)
from bot.salesforce.ids import id_key
from bot.salesforce.soql_text import (
    FIELD_NAME,
    SALESFORCE_ID,
    SOBJECT_NAME,
    SoqlValue,
    checked_name,
    collection_body,
    flatten,
    select_clause,
    soql_literal,
)
from bot.salesforce.transport import LimitInfo, Transport, limit_info

# Names that lived here before the split stay importable from this module.
__all__ = [
    "COMPOSITE_LIMIT",
    "JWT_GRANT",
    "USER_FIELDS",
    "ErrorKind",
    "LimitInfo",
    "RecordResult",
    "SalesforceClient",
    "SalesforceConfig",
    "SalesforceError",
    "SoqlValue",
    "classify",
    "config_from_settings",
    "soql_literal",
]

COMPOSITE_LIMIT = 200
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
USER_FIELDS = ("Name", "Email", "IsActive", "ManagerId")
T = TypeVar("T")


class SalesforceClient:
    """Salesforce REST calls for Airlock; one per org, safe to share between threads."""

    def __init__(self, config: SalesforceConfig) -> None:
        if not config.access_token and not config.can_login:
            raise ValueError(
                "SalesforceConfig needs access_token, or username, consumer_key and "
                "private_key_file for the JWT bearer flow"
            )
        self.config = config
        self.last_limit_info: LimitInfo | None = None
        self._limit_read_at = 0.0  # time.monotonic() of last_limit_info
        self._session = requests.Session()
        # REQUESTS_CA_BUNDLE and proxy variables would otherwise override this session's settings
        self._session.trust_env = False
        self._transport = Transport(config.timeout, self._read_limit_info)
        self._session.mount("https://", self._transport)
        self._session.mount("http://", self._transport)
        self._lock = threading.Lock()
        self._sf: Salesforce | None = None
        self._user_id: str | None = None
        if config.access_token:
            self._sf = self._connect(config.access_token, config.instance_url)

    @property
    def api_calls(self) -> int:
        """HTTP calls this client has made (logins included), for benchmarks."""
        return self._transport.calls

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Run a SOQL query; every page's records (nextRecordsUrl followed), without attributes."""
        page = self._call(lambda sf: sf.query(soql))
        records = list(page["records"])
        while not page.get("done", True):
            more = partial(_query_more, url=page["nextRecordsUrl"])
            page = self._call(more)
            records.extend(page["records"])
        return [_without_attributes(record) for record in records]

    def read_fields(
        self, sobject: str, ids: Iterable[str], fields: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """Current values of `fields` (e.g. "Owner.Email") by record id, read in ONE query."""
        unique_ids = list(dict.fromkeys(ids))
        if not unique_ids:
            return {}
        for record_id in unique_ids:
            if not SALESFORCE_ID.fullmatch(record_id):
                raise ValueError(f"not a Salesforce id: {record_id!r}")
        names, select = select_clause(sobject, fields)
        id_list = ", ".join(soql_literal(record_id) for record_id in unique_ids)
        rows = self.query(f"{select} WHERE Id IN ({id_list})")
        return {row["Id"]: flatten(row, names) for row in rows}

    def update_records(
        self, sobject: str, records: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        """Update up to 200 records (each with "Id") in ONE sObject Collections call."""
        if len(records) > COMPOSITE_LIMIT:
            raise ValueError(f"{len(records)} records: one call takes at most {COMPOSITE_LIMIT}")
        if not records:
            return []
        ids, body_records = collection_body(sobject, records)
        body = {"allOrNone": False, "records": body_records}
        results = self._call(partial(_rest, path="composite/sobjects", method="PATCH", body=body))
        return [record_result(rid, result) for rid, result in zip(ids, results, strict=True)]

    def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create one record and return its id."""
        path = f"sobjects/{checked_name(sobject, SOBJECT_NAME, 'an sObject name')}"
        result = self._call(partial(_rest, path=path, method="POST", body=dict(fields)))
        return str(result["id"])

    def delete(self, sobject: str, record_id: str) -> None:
        """Delete one record (it goes to the Recycle Bin)."""
        name = checked_name(sobject, SOBJECT_NAME, "an sObject name")
        if not SALESFORCE_ID.fullmatch(record_id):
            raise ValueError(f"not a Salesforce id: {record_id!r}")
        self._call(partial(_rest, path=f"sobjects/{name}/{record_id}", method="DELETE", body=None))

    def integration_user_id(self) -> str:
        """The User id Airlock's calls act as (its writes carry it in LastModifiedById), from the
        OpenID Connect UserInfo endpoint (`user_id`); read once."""
        if self._user_id is None:
            found = self._call(lambda sf: sf.oauth2("userinfo")) or {}
            self._user_id = id_key(str(found.get("user_id") or ""))
        return self._user_id

    def find_one(
        self, sobject: str, field: str, value: SoqlValue, fields: Iterable[str] = ()
    ) -> dict[str, Any] | None:
        """The first record whose `field` equals `value` (e.g. a Task by its marker), or None."""
        names, select = select_clause(sobject, fields)
        where = f"{checked_name(field, FIELD_NAME, 'a field name')} = {soql_literal(value)}"
        rows = self.query(f"{select} WHERE {where} LIMIT 1")
        return flatten(rows[0], names) if rows else None

    def describe(self, sobject: str) -> dict[str, Any]:
        """The sObject Describe answer (fields, types, picklists) for the integration user."""
        name = checked_name(sobject, SOBJECT_NAME, "an sObject name")
        # simple-salesforce's SFType.describe(): GET sobjects/{name}/describe/
        return dict(self._call(lambda sf: getattr(sf, name).describe()))

    def api_usage(self) -> LimitInfo:
        """The org's daily API requests now, from the Limits resource (one call)."""
        limits = self._call(partial(_rest, path="limits/", method="GET", body=None))
        daily = limits.get("DailyApiRequests") if isinstance(limits, dict) else None
        if isinstance(daily, dict) and "Max" in daily and "Remaining" in daily:
            total = int(daily["Max"])
            return LimitInfo(used=total - int(daily["Remaining"]), total=total)
        if self.last_limit_info is None:  # the header of this very call is the fallback
            raise SalesforceError("fatal", "the limits answer has no DailyApiRequests")
        return self.last_limit_info

    def limit_info_age(self) -> float:
        """Seconds since the last Sforce-Limit-Info was read (infinite before the first)."""
        if self.last_limit_info is None:
            return float("inf")
        return time.monotonic() - self._limit_read_at

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        """A User's Id, Name, Email, IsActive and ManagerId, or None."""
        users = self.read_fields("User", [user_id], USER_FIELDS)
        return next(iter(users.values()), None)  # keyed by the 18-character id, even for 15

    def _call(self, operation: Callable[[Salesforce], T]) -> T:
        connection = self._connection()
        try:
            return self._attempt(operation, connection)
        except SalesforceError as error:
            if error.kind != "auth" or not self.config.can_login:
                raise
        # One re-authentication, one retry: a second 401 is raised as "auth".
        return self._attempt(operation, self._reauthenticate(connection))

    def _attempt(self, operation: Callable[[Salesforce], T], connection: Salesforce) -> T:
        try:
            return operation(connection)
        except SimpleSalesforceError as error:
            code, message = error_details(error.content)
            raise SalesforceError(
                classify(code, error.status, message), message, error.status, code
            ) from error
        except requests.RequestException as error:
            # timeouts and refused or dropped connections: the request may be retried later
            raise SalesforceError("retryable", f"Salesforce unreachable: {error}") from error

    def _connection(self) -> Salesforce:
        with self._lock:
            if self._sf is None:
                self._sf = self._login()
            return self._sf

    def _reauthenticate(self, stale: Salesforce) -> Salesforce:
        with self._lock:
            if self._sf is stale:  # another thread may have logged in again already
                self._sf = self._login()
            assert self._sf is not None
            return self._sf

    def _connect(self, access_token: str, instance_url: str) -> Salesforce:
        url = urlsplit(instance_url)
        if url.scheme == "http":
            self._transport.plain_http_hosts.add(url.netloc)
        return Salesforce(
            session_id=access_token,
            instance_url=instance_url,
            version=self.config.api_version,
            session=self._session,
            object_pairs_hook=dict,
        )

    def _login(self) -> Salesforce:
        """JWT bearer flow: sign an assertion, trade it for an access token and instance URL."""
        config = self.config
        claims = {
            "iss": config.consumer_key,
            "sub": config.username,
            "aud": config.audience,
            "exp": int(time.time()) + 180,
        }
        try:
            key = Path(config.private_key_file or "").read_bytes()
            assertion = jwt.encode(claims, key, algorithm="RS256")
        except (OSError, ValueError, jwt.PyJWTError) as error:
            message = f"cannot sign with SALESFORCE_PRIVATE_KEY_FILE={config.private_key_file}"
            raise SalesforceError("auth", f"{message}: {error}") from error
        try:
            response = self._session.post(
                config.token_endpoint, data={"grant_type": JWT_GRANT, "assertion": assertion}
            )
        except requests.RequestException as error:
            raise SalesforceError("retryable", f"Salesforce login unreachable: {error}") from error
        if response.status_code != 200:
            code, message = error_details(json_or_text(response))
            kind = classify(code, response.status_code)
            raise SalesforceError(
                "auth" if kind == "fatal" else kind,
                f"JWT bearer login refused: {message}",
                response.status_code,
                code,
            )
        token = response.json()
        return self._connect(token["access_token"], token["instance_url"])

    def _read_limit_info(self, response: requests.Response) -> None:
        info = limit_info(response)
        if info is not None:
            self.last_limit_info, self._limit_read_at = info, time.monotonic()


def _rest(sf: Salesforce, path: str, method: str, body: Any) -> Any:
    return sf.restful(path, method=method, json=body)


def _query_more(sf: Salesforce, url: str) -> Any:
    return sf.query_more(url, identifier_is_url=True)


def _without_attributes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_attributes(v) for k, v in value.items() if k != "attributes"}
    return value
