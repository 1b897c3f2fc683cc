"""Airlock's Salesforce client: simple-salesforce plus timeouts, one re-auth, classified errors."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import jwt
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError as SimpleSalesforceError

from bot.config import ConfigError, Settings

ErrorKind = Literal["retryable", "auth", "limit", "fatal"]
COMPOSITE_LIMIT = 200
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
USER_FIELDS = ("Name", "Email", "IsActive", "ManagerId")
_RETRYABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_SOBJECT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?")  # one relationship hop
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_SOQL_ESCAPES = str.maketrans(
    {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b"}
)
T = TypeVar("T")
SoqlValue = str | int | float | bool | None


@dataclass(frozen=True)
class SalesforceConfig:
    """How to reach Salesforce: an access token, the JWT bearer flow, or both (JWT re-auths).

    After a JWT login the instance URL the login answers replaces `instance_url`.
    """

    instance_url: str
    api_version: str = "62.0"
    access_token: str | None = None
    username: str | None = None
    consumer_key: str | None = None
    private_key_file: str | Path | None = None
    login_url: str = "https://login.salesforce.com"
    timeout: float = 10.0

    @property
    def can_login(self) -> bool:
        """True when the JWT bearer flow is configured (so a rejected token can be replaced)."""
        return bool(self.username and self.consumer_key and self.private_key_file)


@dataclass(frozen=True)
class LimitInfo:
    """API usage from the last Sforce-Limit-Info header."""

    used: int
    total: int


def config_from_settings(settings: Settings, timeout: float = 10.0) -> SalesforceConfig:
    """The client configuration from the SALESFORCE_* settings (access token and/or JWT)."""
    if not settings.salesforce_instance_url:
        raise ConfigError(
            "SALESFORCE_INSTANCE_URL is not set: set it (with SALESFORCE_ACCESS_TOKEN or the JWT "
            "settings) to reach an org, or leave it unset to run on the local stand-in"
        )
    key_file = settings.salesforce_private_key_file
    return SalesforceConfig(
        instance_url=settings.salesforce_instance_url,
        api_version=settings.salesforce_api_version,
        access_token=settings.salesforce_access_token,
        username=settings.salesforce_username,
        consumer_key=settings.salesforce_consumer_key,
        private_key_file=key_file,
        login_url=settings.salesforce_login_url,
        timeout=timeout,
    )


class SalesforceError(Exception):
    """A failed Salesforce call, classified for the outbox: retryable, auth, limit or fatal."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        detail = error_code or status
        super().__init__(f"{kind} ({detail}): {message}" if detail else f"{kind}: {message}")
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.error_code = error_code


@dataclass(frozen=True)
class RecordResult:
    """The outcome of one record in an sObject Collections call."""

    id: str
    success: bool
    error_code: str | None = None
    message: str | None = None
    kind: ErrorKind | None = None


def classify(error_code: str | None, status: int | None = None) -> ErrorKind:
    """Map a Salesforce error code (and HTTP status, if any) to what the caller should do."""
    if error_code == "REQUEST_LIMIT_EXCEEDED":
        return "limit"
    if error_code in _RETRYABLE_CODES or (status is not None and status >= 500):
        return "retryable"
    if status == 401 or error_code == "INVALID_SESSION_ID":
        return "auth"
    return "fatal"


def soql_literal(value: SoqlValue) -> str:
    """Render a value as a SOQL literal, escaping strings so they cannot change the query."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format(Decimal(repr(value)), "f")  # SOQL has no exponent notation
    return "'" + value.translate(_SOQL_ESCAPES) + "'"


def _checked(name: str, pattern: re.Pattern[str], what: str) -> str:
    # names are spliced into SOQL and URLs, so only plain identifiers may pass
    if not pattern.fullmatch(name):
        raise ValueError(f"not {what}: {name!r}")
    return name


def _select(sobject: str, fields: Iterable[str]) -> tuple[list[str], str]:
    names = list(dict.fromkeys(["Id", *fields]))  # SOQL refuses a field selected twice
    for name in names:
        _checked(name, _FIELD, "a field name")
    sobject = _checked(sobject, _SOBJECT, "an sObject name")
    return names, f"SELECT {', '.join(names)} FROM {sobject}"


def _collection(
    sobject: str, records: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    attributes = {"type": _checked(sobject, _SOBJECT, "an sObject name")}
    ids, body = [], []
    for record in records:
        record_id = str(record.get("Id") or record.get("id") or "")
        if not record_id:
            raise ValueError(f"record without an Id: {dict(record)!r}")
        fields = {k: v for k, v in record.items() if k not in ("Id", "id", "attributes")}
        ids.append(record_id)
        body.append({"attributes": attributes, "id": record_id, **fields})
    return ids, body


def _flatten(record: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name in names:
        value: Any = record
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        flat[name] = value
    return flat


def _error_details(content: Any) -> tuple[str | None, str]:
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        content = content[0]
    if isinstance(content, Mapping):
        code = content.get("errorCode") or content.get("statusCode") or content.get("error")
        message = content.get("message") or content.get("error_description") or ""
        return (str(code) if code else None), str(message)
    return None, str(content)[:500]


def _record_result(record_id: str, result: Mapping[str, Any]) -> RecordResult:
    if result.get("success"):
        return RecordResult(id=str(result.get("id") or record_id), success=True)
    code, message = _error_details(result.get("errors") or [])
    kind = classify(code)
    return RecordResult(record_id, False, code, message, kind)


class _Transport(HTTPAdapter):
    """Gives every call a timeout, counts calls, reads limit info, re-targets http sandboxes."""

    def __init__(self, timeout: float, on_response: Callable[[requests.Response], None]) -> None:
        super().__init__()  # max_retries=0: retries belong to the outbox, not the transport
        self.timeout = timeout
        self.on_response = on_response
        self.calls = 0
        self.plain_http_hosts: set[str] = set()
        self._lock = threading.Lock()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        if url.scheme == "https" and url.netloc in self.plain_http_hosts:
            # simple-salesforce always builds https:// URLs from the instance host
            request.url = url._replace(scheme="http").geturl()
        with self._lock:
            self.calls += 1
        response = super().send(request, stream, timeout or self.timeout, verify, cert, proxies)
        self.on_response(response)
        return response


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
        self._session = requests.Session()
        # REQUESTS_CA_BUNDLE and proxy variables would otherwise override this session's settings
        self._session.trust_env = False
        self._transport = _Transport(config.timeout, self._read_limit_info)
        self._session.mount("https://", self._transport)
        self._session.mount("http://", self._transport)
        self._lock = threading.Lock()
        self._sf: Salesforce | None = None
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
            if not _ID.fullmatch(record_id):
                raise ValueError(f"not a Salesforce id: {record_id!r}")
        names, select = _select(sobject, fields)
        id_list = ", ".join(soql_literal(record_id) for record_id in unique_ids)
        rows = self.query(f"{select} WHERE Id IN ({id_list})")
        return {row["Id"]: _flatten(row, names) for row in rows}

    def update_records(
        self, sobject: str, records: Sequence[Mapping[str, Any]]
    ) -> list[RecordResult]:
        """Update up to 200 records (each with "Id") in ONE sObject Collections call."""
        if len(records) > COMPOSITE_LIMIT:
            raise ValueError(f"{len(records)} records: one call takes at most {COMPOSITE_LIMIT}")
        if not records:
            return []
        ids, body_records = _collection(sobject, records)
        body = {"allOrNone": False, "records": body_records}
        results = self._call(partial(_rest, path="composite/sobjects", method="PATCH", body=body))
        return [_record_result(rid, result) for rid, result in zip(ids, results, strict=True)]

    def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create one record and return its id."""
        path = f"sobjects/{_checked(sobject, _SOBJECT, 'an sObject name')}"
        result = self._call(partial(_rest, path=path, method="POST", body=dict(fields)))
        return str(result["id"])

    def find_one(
        self, sobject: str, field: str, value: SoqlValue, fields: Iterable[str] = ()
    ) -> dict[str, Any] | None:
        """The first record whose `field` equals `value` (e.g. a Task by its marker), or None."""
        names, select = _select(sobject, fields)
        where = f"{_checked(field, _FIELD, 'a field name')} = {soql_literal(value)}"
        rows = self.query(f"{select} WHERE {where} LIMIT 1")
        return _flatten(rows[0], names) if rows else None

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
            code, message = _error_details(error.content)
            raise SalesforceError(
                classify(code, error.status), message, error.status, code
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
            "aud": config.login_url,
            "exp": int(time.time()) + 180,
        }
        try:
            key = Path(config.private_key_file or "").read_bytes()
            assertion = jwt.encode(claims, key, algorithm="RS256")
        except (OSError, ValueError, jwt.PyJWTError) as error:
            message = f"cannot sign with SALESFORCE_PRIVATE_KEY_FILE={config.private_key_file}"
            raise SalesforceError("auth", f"{message}: {error}") from error
        url = f"{config.login_url.rstrip('/')}/services/oauth2/token"
        try:
            response = self._session.post(
                url, data={"grant_type": JWT_GRANT, "assertion": assertion}
            )
        except requests.RequestException as error:
            raise SalesforceError("retryable", f"Salesforce login unreachable: {error}") from error
        if response.status_code != 200:
            code, message = _error_details(_json_or_text(response))
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
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.last_limit_info = LimitInfo(used=int(match[1]), total=int(match[2]))


def _rest(sf: Salesforce, path: str, method: str, body: Any) -> Any:
    return sf.restful(path, method=method, json=body)


def _query_more(sf: Salesforce, url: str) -> Any:
    return sf.query_more(url, identifier_is_url=True)


def _without_attributes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_attributes(v) for k, v in value.items() if k != "attributes"}
    return value


def _json_or_text(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
