"""Does the record an agent names exist? One SOQL read per sObject, shared and cached.

An item about a record that does not exist would wait for a reviewer and then fail at
write-back; intake answers 422 instead. The read is `SELECT Id FROM <SObject> WHERE Id IN (...)`
(the Query resource leaves out deleted records, so a record in the recycle bin counts as missing:
REST API Developer Guide, "Execute a SOQL Query that Includes Deleted Items",
https://developer.salesforce.com/docs/platform/api-rest/guide/dome-queryall.html). Salesforce
answers 18-character ids whichever form was asked, so ids are compared by their 18-character form
(bot/salesforce/ids.py). A record the integration user may not see is absent from the answer
too: Airlock could not write it either.

Intakes that arrive while a read is under way wait for it and then share ONE read per sObject
(group commit), so a burst of N submissions costs two calls, not N. Found records are cached
for `found_ttl`; missing ones only briefly, since the record may be created a moment later.
When Salesforce cannot answer (outage, limits, API usage over the ceiling), good work is not
refused: the item is accepted, its audit trail says the record was not checked, and the
write-back reports a missing record as a failure later. After a failed read, intake does not
wait on Salesforce again for `rest_after` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.base.errors import InvalidInput
from bot.salesforce.errors import SalesforceError
from bot.salesforce.ids import to_18
from bot.salesforce.soql_text import SOBJECT_NAME, checked_name, soql_literal
from bot.salesforce.transport import LimitInfo

log = logging.getLogger(__name__)
FOUND_TTL = 600.0  # records are rarely deleted; one deleted since fails at write-back anyway
MISSING_TTL = 15.0  # an agent may name a record created a moment ago
REST_AFTER = 30.0  # after a failed read, intake accepts unchecked instead of waiting again
IDS_PER_QUERY = 200  # keeps the GET URL of one query far below Salesforce's limits
CACHE_SIZE = 50_000

Record = tuple[str, str]  # (sObject, 18-character id)


class Querier(Protocol):
    """What the check reads with: SalesforceClient.query and its last Sforce-Limit-Info."""

    last_limit_info: LimitInfo | None

    def query(self, soql: str) -> list[dict[str, Any]]: ...


class RecordNotFound(InvalidInput):
    """The submission names a record Salesforce does not have (or does not show Airlock)."""

    slug, title = "record-not-found", "Record not found in Salesforce"


@dataclass
class _Round:
    """The ids of one shared read; `done` once it ran, `error` when Salesforce did not answer."""

    wanted: dict[str, set[str]] = field(default_factory=dict)
    found: set[Record] = field(default_factory=set)
    done: bool = False
    error: str | None = None


@dataclass
class RecordCheck:
    """Existence of records at intake: cached, one shared read per sObject, never a hard stop."""

    client: Querier | None = None
    usage_ceiling: float = 1.0
    found_ttl: float = FOUND_TTL
    missing_ttl: float = MISSING_TTL
    rest_after: float = REST_AFTER
    clock: Callable[[], float] = time.monotonic
    _cache: dict[Record, tuple[bool, float]] = field(default_factory=dict)
    _next: _Round | None = None
    _busy: bool = False
    _rest_until: float = 0.0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def needs_check(self, sobject: str, record_id: str) -> bool:
        """False without Salesforce, or when the record was found recently (no call out)."""
        if self.client is None:
            return False
        try:
            return self._cached((sobject, to_18(record_id))) is not True
        except ValueError:
            return True

    def require(self, sobject: str, record_id: str) -> str | None:
        """Raise RecordNotFound if the record is missing; a note when it could not be checked."""
        try:
            record = (sobject, to_18(record_id))
        except ValueError:  # 18 characters whose last three are not a case checksum
            found: bool | None = False
        else:
            found = self._cached(record)
        if found is None:
            why = self._unavailable()
            if why is not None:
                return why
            done = self._read(record)
            if done.error is not None:
                return f"not checked: {done.error}"
            found = record in done.found
        if not found:
            raise RecordNotFound(
                f"record.id: {record_id} is not an existing {sobject} in Salesforce (or the "
                "integration user cannot see it): send the id of a record that exists",
                errors=[{"field": "record.id", "message": f"no {sobject} {record_id}"}],
                sobject=sobject,
                record_id=record_id,
            )
        return None

    @property
    def queued(self) -> int:
        """Ids waiting for the next shared read."""
        with self._cond:
            return sum(len(ids) for ids in self._next.wanted.values()) if self._next else 0

    def _cached(self, record: Record) -> bool | None:
        with self._cond:
            entry = self._cache.get(record)
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def _unavailable(self) -> str | None:
        if self.client is None:
            return "not checked: no Salesforce configured"
        if self.clock() < self._rest_until:
            return "not checked: Salesforce did not answer a moment ago"
        info = self.client.last_limit_info
        if info is not None and info.share >= self.usage_ceiling:
            # The org's daily allowance is for write-backs first (bot/salesforce/usage.py).
            return f"not checked: Salesforce API usage at {info.share:.0%}, over the ceiling"
        return None

    def _read(self, record: Record) -> _Round:
        with self._cond:
            mine = self._next = self._next or _Round()
            mine.wanted.setdefault(record[0], set()).add(record[1])
            while self._busy and not mine.done:
                self._cond.wait()
            if mine.done:
                return mine
            # Nobody is reading and this round is still pending: this thread reads for all.
            self._busy, self._next = True, None
        try:
            mine.error = self._run(mine)
        except BaseException:
            # The others waiting on this round must not take "no answer" for "not found".
            mine.error = "the existence read failed unexpectedly"
            raise
        finally:
            with self._cond:
                mine.done, self._busy = True, False
                self._cond.notify_all()
        return mine

    def _run(self, round_: _Round) -> str | None:
        assert self.client is not None
        found: set[Record] = set()
        try:
            for sobject, ids in round_.wanted.items():
                ordered = sorted(ids)
                for start in range(0, len(ordered), IDS_PER_QUERY):
                    chunk = ordered[start : start + IDS_PER_QUERY]
                    found |= {(sobject, to_18(row["Id"])) for row in self._query(sobject, chunk)}
        except SalesforceError as error:
            self._rest_until = self.clock() + self.rest_after
            log.warning("record existence not checked, accepting unchecked: %s", error)
            return f"Salesforce did not answer ({error})"
        round_.found = found
        self._store(round_, found)
        return None

    def _query(self, sobject: str, ids: list[str]) -> list[dict[str, Any]]:
        assert self.client is not None
        name = checked_name(sobject, SOBJECT_NAME, "an sObject name")
        id_list = ", ".join(soql_literal(record_id) for record_id in ids)
        return self.client.query(f"SELECT Id FROM {name} WHERE Id IN ({id_list})")

    def _store(self, round_: _Round, found: set[Record]) -> None:
        now = self.clock()
        with self._cond:
            if len(self._cache) > CACHE_SIZE:
                self._cache.clear()  # rare: a cold cache costs one read per record
            for sobject, ids in round_.wanted.items():
                for record_id in ids:
                    hit = (sobject, record_id) in found
                    ttl = self.found_ttl if hit else self.missing_ttl
                    self._cache[(sobject, record_id)] = (hit, now + ttl)
