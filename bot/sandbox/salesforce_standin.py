"""Local Salesforce REST stand-in: a real HTTP server with seeded records and fault injection."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import jwt

from bot.sandbox.salesforce_seed import (
    FIELDS,
    READ_ONLY_FIELDS,
    SEED_PEOPLE,
    SeedPerson,
    build_seed,
    make_id,
)
from bot.sandbox.salesforce_soql import SoqlError, execute, parse

__all__ = ["DEFAULT_TOKEN", "SEED_PEOPLE", "SalesforceStandin", "SeedPerson", "StandinCall"]

DEFAULT_TOKEN = "sandbox-token"
API_LIMIT = 15_000
COMPOSITE_LIMIT = 200
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FAULTS = frozenset({"503", "timeout", "lock", "401", "limit"})
MATCHES = frozenset({"composite", "query", "sobjects", "token", "*"})
Answer = tuple[int, Any]


class _ApiError(Exception):
    """A REST error: answered as `[{"message", "errorCode", "fields"}]` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or []

    def answer(self) -> Answer:
        error = {"message": self.message, "errorCode": self.code}
        return self.status, [{**error, "fields": self.fields} if self.fields else error]

    def record_result(self) -> dict[str, Any]:
        error = {"statusCode": self.code, "message": self.message, "fields": self.fields}
        return {"success": False, "errors": [error]}


_INVALID_SESSION = _ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
_NOT_FOUND = _ApiError(404, "NOT_FOUND", "The requested resource does not exist")
_LOCKED = _ApiError(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record")
_LIMITED = _ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
_UNAVAILABLE = _ApiError(503, "SERVER_UNAVAILABLE", "Service temporarily unavailable")
_SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_KINDS = {"composite": "composite", "query": "query", "queryAll": "query", "sobjects": "sobjects"}


@dataclass(frozen=True)
class StandinCall:
    """One request the stand-in answered (body: parsed JSON, or the form of a token request)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class _Fault:
    fault: str
    remaining: int
    match: str


def _kind(path: str) -> str:
    segments = path.strip("/").split("/")
    if segments[:2] == ["services", "oauth2"]:
        return "token"
    resource = segments[3] if len(segments) > 3 and segments[:2] == ["services", "data"] else ""
    return _KINDS.get(resource, "other")


def _record_id(record: dict[str, Any]) -> str:
    return str(record.get("id") or record.get("Id") or "")


def _fields_of(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in ("attributes", "id", "Id")}


class SalesforceStandin:
    """Salesforce REST on 127.0.0.1: records, a call log, API counters and injectable faults."""

    def __init__(self, port: int = 0, seed: bool = True) -> None:
        self.valid_tokens: set[str] = {DEFAULT_TOKEN}
        self.timeout_seconds = 2.0
        self.query_page_size = 2000
        self.jwt_public_key: str | bytes | None = None
        self.jwt_consumer_key: str | None = None
        self.jwt_audiences = {"https://login.salesforce.com", "https://test.salesforce.com"}
        self.calls: list[StandinCall] = []
        self.api_calls = 0
        self.counters: dict[str, int] = {}
        self._records = build_seed() if seed else {sobject: {} for sobject in FIELDS}
        self._deleted: set[str] = set()
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self._faults: list[_Fault] = []
        self._numbers = itertools.count(1000)
        self._last_stamp = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SalesforceStandin:
        """Serve on 127.0.0.1 in a daemon thread (a free port unless one was given)."""
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self._port, self)
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
        self._stopping.set()  # wakes handlers sleeping in a timeout fault
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

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """A copy of one record's fields, or None."""
        with self._lock:
            record = self._records.get(sobject, {}).get(record_id)
            return None if record is None else dict(record)

    def records(self, sobject: str) -> dict[str, dict[str, Any]]:
        """Copies of every record of an sObject, by id."""
        with self._lock:
            return {rid: dict(fields) for rid, fields in self._records.get(sobject, {}).items()}

    def add(self, sobject: str, fields: dict[str, Any]) -> str:
        """Insert a record directly (no API call) and return its id."""
        with self._lock:
            self._check_fields(sobject, fields)
            return self._insert(sobject, fields)

    def set_field(self, sobject: str, record_id: str, field: str, value: Any) -> None:
        """Change a field as a person editing the record in Salesforce would (stamps it)."""
        with self._lock:
            record = self._records[sobject][record_id]
            record[field] = value
            record["LastModifiedDate"] = record["SystemModstamp"] = self._tick()

    def calls_matching(self, method: str, path_substring: str) -> list[StandinCall]:
        """Answered calls with this method ("*" for any) whose path contains the substring."""
        with self._lock:
            return [
                call
                for call in self.calls
                if method in ("*", call.method.upper(), call.method) and path_substring in call.path
            ]

    def reset_calls(self) -> None:
        """Forget the call log and counters (records are kept)."""
        with self._lock:
            self.calls.clear()
            self.counters.clear()
            self.api_calls = 0

    def inject(self, fault: str, times: int = 1, match: str = "*") -> None:
        """Fail the next `times` matching calls; "*" matches every data API call, not logins."""
        if fault not in FAULTS or match not in MATCHES or times < 1:
            raise ValueError(f"fault one of {sorted(FAULTS)}, match one of {sorted(MATCHES)}")
        with self._lock:
            self._faults.append(_Fault(fault, times, match))

    def dispatch(self, method: str, target: str, authorization: str, raw: bytes) -> Answer:
        """Answer one HTTP request (used by the server thread); record it in `calls`."""
        path, _, query_string = target.partition("?")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        kind = _kind(path)
        with self._lock:
            self.api_calls += 1
            self.counters[kind] = self.counters.get(kind, 0) + 1
        body: Any = None
        try:
            body = _parse_body(kind, raw)
            status, payload = self._route(method, path, query, body, authorization, kind)
        except _ApiError as error:
            status, payload = error.answer()
        with self._lock:
            self.calls.append(StandinCall(method, path, query, body, status))
        return status, payload

    def limit_info(self) -> str:
        """The Sforce-Limit-Info header value."""
        with self._lock:
            return f"api-usage={self.api_calls}/{API_LIMIT}"

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, auth: str, kind: str
    ) -> Answer:
        token = auth.partition(" ")[2].strip()  # "Bearer <token>" (or the older "OAuth <token>")
        if kind != "token":
            with self._lock:
                if token not in self.valid_tokens:
                    raise _INVALID_SESSION
        fault = self._take_fault(kind)
        if fault is not None:
            return self._fault_answer(fault, body, token)
        if kind == "token":
            if method != "POST" or path.rstrip("/") != "/services/oauth2/token":
                raise _NOT_FOUND
            return self._token(body if isinstance(body, dict) else {})
        with self._lock:
            return self._resource(method, path, query, body)

    def _take_fault(self, kind: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault.match == kind or (fault.match == "*" and kind != "token"):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.fault
        return None

    def _fault_answer(self, fault: str, body: Any, token: str) -> Answer:
        if fault == "timeout":
            # Answer after the client gave up, having applied nothing: deterministic for tests.
            self._stopping.wait(self.timeout_seconds)
            return _UNAVAILABLE.answer()
        if fault == "401":
            with self._lock:
                self.valid_tokens.discard(token)
            return _INVALID_SESSION.answer()
        if fault == "limit":
            return _LIMITED.answer()
        if fault == "lock" and isinstance(body, dict) and isinstance(body.get("records"), list):
            return 200, [_LOCKED.record_result() for _ in body["records"]]
        if fault == "lock":
            return _LOCKED.answer()
        return _UNAVAILABLE.answer()

    def _token(self, form: dict[str, Any]) -> Answer:
        if form.get("grant_type") != JWT_GRANT:
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type"}
        try:
            claims = self._verify_assertion(str(form.get("assertion", "")))
        except jwt.PyJWTError as error:
            return 400, {"error": "invalid_grant", "error_description": f"assertion: {error}"}
        with self._lock:
            users = self._records["User"].values()
            if claims["sub"] not in {user["Username"] for user in users if user["IsActive"]}:
                description = "user hasn't approved this consumer"
                return 400, {"error": "invalid_grant", "error_description": description}
            token = f"00DAi0000SANDBOX!{next(self._numbers)}"
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

    def _resource(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        version, _, resource = path.removeprefix("/services/data/v").partition("/")
        head, *rest = resource.strip("/").split("/")
        if head in ("query", "queryAll") and method == "GET":
            return self._query_more(rest[0], version) if rest else self._query(query, version)
        if [head, *rest] == ["composite", "sobjects"] and method in ("PATCH", "POST"):
            return self._composite(method, body)
        if head == "sobjects" and len(rest) == 1 and method == "POST":
            fields = body if isinstance(body, dict) else {}
            self._check_fields(self._sobject(rest[0]), fields)
            return 201, {"id": self._insert(rest[0], fields), "success": True, "errors": []}
        if head == "sobjects" and len(rest) == 2:
            return self._record(method, self._sobject(rest[0]), rest[1], query, body, version)
        raise _NOT_FOUND

    def _record(
        self, method: str, sobject: str, rid: str, query: dict[str, str], body: Any, version: str
    ) -> Answer:
        record = self._existing(sobject, rid)
        if method == "GET":
            names = (
                [name.strip() for name in query["fields"].split(",")] if "fields" in query else []
            )
            for name in names:
                if name not in FIELDS[sobject]:
                    raise _ApiError(400, "INVALID_FIELD", f"No such column '{name}' on {sobject}")
            url = f"/services/data/v{version}/sobjects/{sobject}/{rid}"
            shown = {name: record.get(name) for name in names} if names else record
            return 200, {"attributes": {"type": sobject, "url": url}, **shown}
        if method == "PATCH":
            fields = body if isinstance(body, dict) else {}
            self._check_fields(sobject, fields)
            self._update(record, fields)
            return 204, None
        if method == "DELETE":
            del self._records[sobject][rid]
            self._deleted.add(rid)
            return 204, None
        message = f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE"
        raise _ApiError(405, "METHOD_NOT_ALLOWED", message)

    def _query(self, query: dict[str, str], version: str) -> Answer:
        if not query.get("q"):
            raise _ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            rows = execute(parse(query["q"]), self._records, version)
        except SoqlError as error:
            raise _ApiError(400, error.error_code, error.message) from error
        return 200, self._page(rows, 0, version)

    def _query_more(self, cursor: str, version: str) -> Answer:
        rows = self._cursors.pop(cursor, None)
        if rows is None:
            raise _ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self._page(rows, int(cursor.rpartition("-")[2]), version)

    def _page(self, rows: list[dict[str, Any]], offset: int, version: str) -> dict[str, Any]:
        end = offset + self.query_page_size
        page = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[offset:end]}
        if end < len(rows):
            cursor = f"01gAi{next(self._numbers):010d}-{end}"
            self._cursors[cursor] = rows
            page["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor}"
        return page

    def _composite(self, method: str, body: Any) -> Answer:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise _ApiError(
                400, "JSON_PARSER_ERROR", 'expected {"allOrNone": ..., "records": [...]}'
            )
        records = body["records"]
        if len(records) > COMPOSITE_LIMIT:
            message = "record limit reached. cannot submit more than 200 records into this call"
            raise _ApiError(400, "EXCEEDED_ID_LIMIT", message)
        errors = [self._composite_error(method, record) for record in records]
        if body.get("allOrNone") and any(errors):
            rolled_back = _ApiError(400, "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back")
            return 200, [(error or rolled_back).record_result() for error in errors]
        results = []
        for record, error in zip(records, errors, strict=True):
            if error is not None:
                results.append(error.record_result())
                continue
            sobject, fields = record["attributes"]["type"], _fields_of(record)
            if method == "PATCH":
                record_id = _record_id(record)
                self._update(self._records[sobject][record_id], fields)
            else:
                record_id = self._insert(sobject, fields)
            results.append({"id": record_id, "success": True, "errors": []})
        return 200, results

    def _composite_error(self, method: str, record: Any) -> _ApiError | None:
        try:
            if not isinstance(record, dict) or not isinstance(record.get("attributes"), dict):
                raise _ApiError(400, "INVALID_TYPE", "Must specify a type in attributes")
            sobject = self._sobject(str(record["attributes"].get("type")))
            self._check_fields(sobject, _fields_of(record))
            if method == "PATCH":
                self._existing(sobject, _record_id(record))
            elif _record_id(record):
                raise _ApiError(400, "INVALID_FIELD", "cannot specify Id in an insert call")
        except _ApiError as error:
            return error
        return None

    def _sobject(self, name: str) -> str:
        if name not in FIELDS:
            raise _ApiError(404, "NOT_FOUND", f"sObject type '{name}' is not supported.")
        return name

    def _existing(self, sobject: str, record_id: str) -> dict[str, Any]:
        record = self._records[sobject].get(record_id)
        if record is not None:
            return record
        if record_id in self._deleted:
            raise _ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        if not record_id:
            raise _ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
        if not _SALESFORCE_ID.fullmatch(record_id):
            raise _ApiError(
                400, "MALFORMED_ID", f"Record ID: id value of incorrect type: {record_id}"
            )
        raise _NOT_FOUND

    def _check_fields(self, sobject: str, fields: dict[str, Any]) -> None:
        for name in fields:
            if name not in FIELDS[sobject]:
                message = f"No such column '{name}' on sobject of type {sobject}"
                raise _ApiError(400, "INVALID_FIELD", message, [name])
            if name in READ_ONLY_FIELDS:
                message = f"Unable to create/update fields: {name}."
                raise _ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", message, [name])

    def _insert(self, sobject: str, fields: dict[str, Any]) -> str:
        record_id = make_id(sobject, next(self._numbers))
        record: dict[str, Any] = dict.fromkeys(FIELDS[sobject])
        if "OwnerId" in record:
            record["OwnerId"] = SEED_PEOPLE[0].salesforce_id  # the integration (admin) user
        stamp = self._tick()
        record.update(fields, Id=record_id, CreatedDate=stamp)
        record["LastModifiedDate"] = record["SystemModstamp"] = stamp
        self._records[sobject][record_id] = record
        return record_id

    def _update(self, record: dict[str, Any], fields: dict[str, Any]) -> None:
        record.update(fields)
        record["LastModifiedDate"] = record["SystemModstamp"] = self._tick()

    def _tick(self) -> str:
        # Strictly increasing, so every write moves SystemModstamp even within one millisecond.
        now = max(datetime.now(UTC), self._last_stamp + timedelta(milliseconds=1))
        self._last_stamp = now.replace(microsecond=now.microsecond // 1000 * 1000)
        return self._last_stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _parse_body(kind: str, raw: bytes) -> Any:
    if not raw:
        return None
    if kind == "token":
        return dict(parse_qsl(raw.decode()))
    try:
        return json.loads(raw)
    except ValueError as error:
        raise _ApiError(400, "JSON_PARSER_ERROR", f"invalid JSON: {error}") from error


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, standin: SalesforceStandin) -> None:
        self.standin = standin
        self.connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # Headers and body leave in two writes; Nagle + delayed ACK would add ~40 ms per call.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # Keep-alive connections outlive shutdown(); a stopped stand-in must look down to clients.
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the pooled connections of requests expect
    server: _Server

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        standin = self.server.standin
        auth = self.headers.get("Authorization", "")
        status, payload = standin.dispatch(self.command, self.path, auth, raw)
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Sforce-Limit-Info", standin.limit_info())
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout): nobody to answer

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the sandbox read `calls` instead."""
