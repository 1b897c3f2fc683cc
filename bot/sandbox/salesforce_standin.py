"""Local Salesforce REST stand-in: a real HTTP server with seeded records and fault injection."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qsl

import jwt

from bot.sandbox.salesforce_api_errors import (
    INVALID_SESSION,
    LIMITED,
    LOCKED,
    NOT_FOUND,
    TRIGGER_LOCKED,
    UNAVAILABLE,
    Answer,
    ApiError,
)
from bot.sandbox.salesforce_calls import (
    FAULTS,
    MATCHES,
    Fault,
    StandinCall,
    kind_of,
    parse_body,
    take_fault,
    userinfo,
)
from bot.sandbox.salesforce_http import StandinServer
from bot.sandbox.salesforce_schema import CUSTOM_TEXT, FieldSpec
from bot.sandbox.salesforce_seed import SEED_PEOPLE, SeedPerson
from bot.sandbox.salesforce_store import AppliedWrite, RecordStore

__all__ = [
    "DEFAULT_TOKEN",
    "SEED_PEOPLE",
    "AppliedWrite",
    "FieldSpec",
    "SalesforceStandin",
    "SeedPerson",
    "StandinCall",
]

DEFAULT_TOKEN = "sandbox-token"
API_LIMIT = 15_000
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_LOCK_FAULTS = {"lock": LOCKED, "trigger_lock": TRIGGER_LOCKED}


class SalesforceStandin:
    """Salesforce REST on 127.0.0.1: records, a call log, API counters and injectable faults."""

    def __init__(self, port: int = 0, seed: bool = True) -> None:
        self.valid_tokens: set[str] = {DEFAULT_TOKEN}
        self.timeout_seconds = 2.0
        self.jwt_public_key: str | bytes | None = None
        self.jwt_consumer_key: str | None = None
        self.jwt_audiences = {"https://login.salesforce.com", "https://test.salesforce.com"}
        self.calls: list[StandinCall] = []
        self.api_calls = 0
        # The org's daily allowance, and requests other integrations already made today.
        self.api_limit = API_LIMIT
        self.api_used_elsewhere = 0
        self.counters: dict[str, int] = {}
        self._store = RecordStore(seed)
        self._faults: list[Fault] = []
        self._delays: dict[str, float] = {}
        self._lock = self._store.lock
        self.set_field = self._store.set_field  # a person's edit in Salesforce (RecordStore)
        self._stopping = threading.Event()
        self._port = port
        self._server: StandinServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SalesforceStandin:
        """Serve on 127.0.0.1 in a daemon thread (a free port unless one was given)."""
        if self._server is None:
            self._stopping.clear()
            self._server = StandinServer(self._port, self)
            self._port = int(self._server.server_address[1])
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.02},  # how long stop() waits at most
                name="salesforce-standin",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections; records survive and start() serves them again."""
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a timeout fault or a delay
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> SalesforceStandin:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def instance_url(self) -> str:
        """The base URL clients use, e.g. http://127.0.0.1:50123."""
        if not self._port:
            raise RuntimeError("start() the Salesforce stand-in before asking for its URL")
        return f"http://127.0.0.1:{self._port}"

    @property
    def query_page_size(self) -> int:
        """Rows per query page before a nextRecordsUrl."""
        return self._store.page_size

    @query_page_size.setter
    def query_page_size(self, size: int) -> None:
        self._store.page_size = size

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """A copy of one record's fields, or None."""
        with self._lock:
            record = self._store.records.get(sobject, {}).get(record_id)
            return None if record is None else dict(record)

    def records(self, sobject: str) -> dict[str, dict[str, Any]]:
        """Copies of every record of an sObject, by id."""
        with self._lock:
            return {rid: dict(f) for rid, f in self._store.records.get(sobject, {}).items()}

    def add(self, sobject: str, fields: dict[str, Any]) -> str:
        """Insert a record directly (no API call) and return its id."""
        with self._lock:
            self._store.check_fields(sobject, fields)
            return self._store.insert(sobject, fields, log=False)

    def add_field(self, sobject: str, name: str, spec: FieldSpec = CUSTOM_TEXT) -> None:
        """Declare a custom field (e.g. Airlock_Authority__c; a 255-character text by default)."""
        self._store.add_field(sobject, name, spec)

    def hide_field(self, sobject: str, name: str) -> None:
        """Hide a field from the integration user (field-level security: INVALID_FIELD)."""
        self._store.hide_field(sobject, name)

    def round_on_write(self, enabled: bool) -> None:
        """Whether currency/percent values are stored rounded to the field's scale (default on)."""
        self._store.round_on_write = enabled

    def set_picklist_default(self, sobject: str, field: str, value: str) -> None:
        """Make `value` the org's default of a picklist (used when an insert leaves it out)."""
        with self._lock:
            self._store.picklist_defaults.setdefault(sobject, {})[field] = value

    def applied_writes(self, sobject: str | None = None) -> list[AppliedWrite]:
        """Every insert and update the API applied, oldest first (direct edits excluded)."""
        with self._lock:
            return [w for w in self._store.applied if sobject in (None, w.sobject)]

    def calls_matching(self, method: str, path_substring: str) -> list[StandinCall]:
        """Answered calls with this method ("*" for any) whose path contains the substring."""
        with self._lock:
            found = [call for call in self.calls if path_substring in call.path]
        return [call for call in found if method in ("*", call.method.upper(), call.method)]

    def reset_calls(self) -> None:
        """Forget the call log and counters (records and applied writes are kept)."""
        with self._lock:
            self.calls, self.counters, self.api_calls = [], {}, 0

    def inject(self, fault: str, times: int = 1, match: str = "*") -> None:
        """Fail the next `times` matching calls; "*" matches every data API call, not logins."""
        if fault not in FAULTS or match not in MATCHES or times < 1:
            raise ValueError(f"fault one of {sorted(FAULTS)}, match one of {sorted(MATCHES)}")
        with self._lock:
            self._faults.append(Fault(fault, times, match))

    def clear_faults(self) -> int:
        """Drop the faults not yet answered (an outage window ends); how many were left."""
        with self._lock:
            left, self._faults[:] = sum(fault.remaining for fault in self._faults), []
        return left

    def set_delay(self, match: str, seconds: float) -> None:
        """Hold answers to matching calls for `seconds` AFTER applying them (0 clears it)."""
        if match not in MATCHES or seconds < 0:
            raise ValueError(f"match one of {sorted(MATCHES)} and seconds >= 0")
        with self._lock:
            self._delays[match] = seconds

    def dispatch(self, method: str, target: str, authorization: str, raw: bytes) -> Answer:
        """Answer one HTTP request (used by the server thread); record it in `calls`."""
        path, _, query_string = target.partition("?")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        kind = kind_of(path)
        with self._lock:
            self.api_calls += 1
            self.counters[kind] = self.counters.get(kind, 0) + 1
        body: Any = None
        try:
            body = parse_body(kind, raw)
            status, payload = self._route(method, path, query, body, authorization, kind)
        except ApiError as error:
            status, payload = error.answer()
        with self._lock:
            self.calls.append(StandinCall(method, path, query, body, status))
            delay = self._delays.get(kind, self._delays.get("*", 0.0) if kind != "token" else 0.0)
        if delay:
            # A slow way back: the work is done, the answer is late (clients may give up first).
            self._stopping.wait(delay)
        return status, payload

    def limit_info(self) -> str:
        """The Sforce-Limit-Info header value."""
        used, total = self._usage()
        return f"api-usage={used}/{total}"

    def _usage(self) -> tuple[int, int]:
        with self._lock:
            return self.api_calls + self.api_used_elsewhere, self.api_limit

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, auth: str, kind: str
    ) -> Answer:
        token = auth.partition(" ")[2].strip()  # "Bearer <token>" (or the older "OAuth <token>")
        if kind != "token":
            with self._lock:
                if token not in self.valid_tokens:
                    raise INVALID_SESSION
        with self._lock:
            fault = take_fault(self._faults, kind)
        if fault is not None:
            return self._fault_answer(fault, body, token)
        if kind == "token" and path.rstrip("/") == "/services/oauth2/userinfo" and method == "GET":
            with self._lock:
                return userinfo(token in self.valid_tokens)
        if kind == "token":
            if method != "POST" or path.rstrip("/") != "/services/oauth2/token":
                raise NOT_FOUND
            return self._token(body if isinstance(body, dict) else {})
        if kind == "limits" and method == "GET":
            # REST API Developer Guide, "Limits": DailyApiRequests {Max, Remaining}
            used, total = self._usage()
            return 200, {"DailyApiRequests": {"Max": total, "Remaining": max(0, total - used)}}
        return self._store.resource(method, path, query, body)

    def _fault_answer(self, fault: str, body: Any, token: str) -> Answer:
        if fault == "timeout":
            # Answer after the client gave up, having applied nothing: deterministic for tests.
            self._stopping.wait(self.timeout_seconds)
            return UNAVAILABLE.answer()
        if fault == "401":
            with self._lock:
                self.valid_tokens.discard(token)
            return INVALID_SESSION.answer()
        if fault == "limit":
            return LIMITED.answer()
        locked = _LOCK_FAULTS.get(fault)
        if locked and isinstance(body, dict) and isinstance(body.get("records"), list):
            return 200, [locked.record_result() for _ in body["records"]]
        if locked:
            return locked.answer()
        return UNAVAILABLE.answer()

    def _token(self, form: dict[str, Any]) -> Answer:
        if form.get("grant_type") != JWT_GRANT:
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type"}
        try:
            claims = self._verify_assertion(str(form.get("assertion", "")))
        except jwt.PyJWTError as error:
            return 400, {"error": "invalid_grant", "error_description": f"assertion: {error}"}
        with self._lock:
            users = self._store.records["User"].values()
            if claims["sub"] not in {user["Username"] for user in users if user["IsActive"]}:
                description = "user hasn't approved this consumer"
                return 400, {"error": "invalid_grant", "error_description": description}
            token = f"00DAi0000SANDBOX!{self._store.next_number()}"
            self.valid_tokens.add(token)
        answer = {"access_token": token, "instance_url": self.instance_url, "token_type": "Bearer"}
        return 200, {**answer, "scope": "api"}

    def _verify_assertion(self, assertion: str) -> dict[str, Any]:
        audiences = sorted(self.jwt_audiences | {self.instance_url})
        options: dict[str, Any] = {"require": ["iss", "sub", "aud", "exp"]}
        if self.jwt_public_key is None:
            # No key configured: the claims are still checked, only the signature is trusted.
            options |= {"verify_signature": False, "verify_exp": True, "verify_aud": True}
        return jwt.decode(
            assertion,
            self.jwt_public_key or "",
            algorithms=["RS256"],
            audience=audiences,
            issuer=self.jwt_consumer_key,
            options=options,  # type: ignore[arg-type]
        )
