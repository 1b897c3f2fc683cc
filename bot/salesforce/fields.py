"""Salesforce field metadata (describe) of the allowlisted sObjects: cached, checked against specs.

The cache is filled by the ticker (at start, then when older than `max_age`, and at once after
Salesforce answered INVALID_FIELD); intake and the conflict check only read it, so nothing on the
hot path calls Salesforce. An sObject not described yet is "unknown": callers accept as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.base.spec_model import WorkflowSpec
from bot.salesforce.errors import SalesforceError
from models.types import utcnow

log = logging.getLogger(__name__)
MAX_AGE = timedelta(hours=1)
RETRY_AFTER = timedelta(minutes=1)  # after a failed describe: a down org is not asked every tick


class Describer(Protocol):
    """What the cache reads from: SalesforceClient.describe."""

    def describe(self, sobject: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FieldMeta:
    """One field as the integration user sees it (from describe)."""

    name: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    updateable: bool = True
    createable: bool = True
    nillable: bool = True
    label: str = ""  # what people read in Salesforce, e.g. "Stage" for StageName
    name_field: bool = False  # the record's name (Name; CaseNumber on Case; Subject on Task)

    @classmethod
    def from_describe(cls, entry: Mapping[str, Any]) -> FieldMeta:
        """Read one entry of describe()'s `fields` (REST sObject Describe)."""
        active = tuple(
            str(value["value"])
            for value in entry.get("picklistValues") or []
            if value.get("active", True)
        )
        return cls(
            name=str(entry["name"]),
            type=str(entry.get("type") or "string"),
            length=int(entry.get("length") or 0),
            precision=int(entry.get("precision") or 0),
            scale=int(entry.get("scale") or 0),
            digits=int(entry.get("digits") or 0),
            picklist=active,
            restricted=bool(entry.get("restrictedPicklist")),
            updateable=bool(entry.get("updateable", True)),
            createable=bool(entry.get("createable", True)),
            nillable=bool(entry.get("nillable", True)),
            label=str(entry.get("label") or ""),
            name_field=bool(entry.get("nameField")),
        )


@dataclass(frozen=True)
class FieldProblem:
    """A field a workflow names that the org does not offer the integration user."""

    workflow_id: str
    where: str  # the spec path, e.g. allowed_outputs.fields
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field} {self.message}"


class FieldCatalog:
    """describe() results by sObject, refreshed on a schedule; safe to share between threads."""

    def __init__(self, client: Describer | None = None, max_age: timedelta = MAX_AGE) -> None:
        self.client = client
        self.max_age = max_age
        self._objects: dict[str, dict[str, FieldMeta]] = {}
        self._loaded_at: dict[str, datetime] = {}
        self._failed_at: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.checked_specs: frozenset[tuple[str, str]] = frozenset()  # (id, version) last checked

    def known(self, sobject: str) -> bool:
        """Whether this sObject has been described (its metadata can be relied on)."""
        with self._lock:
            return sobject in self._objects

    def field(self, sobject: str, name: str) -> FieldMeta | None:
        """The field's metadata; None when the sObject is unknown or has no such visible field."""
        with self._lock:
            return self._objects.get(sobject, {}).get(name)

    def fields_of(self, sobject: str) -> dict[str, FieldMeta]:
        """Every visible field of a described sObject (empty when unknown)."""
        with self._lock:
            return dict(self._objects.get(sobject, {}))

    def load(self, sobject: str, answer: Mapping[str, Any], now: datetime) -> None:
        """Store one describe() answer."""
        fields = {str(e["name"]): FieldMeta.from_describe(e) for e in answer.get("fields", [])}
        with self._lock:
            self._objects[sobject] = fields
            self._loaded_at[sobject] = now

    def invalidate(self) -> None:
        """Salesforce said INVALID_FIELD: describe again at the next refresh (metadata is kept)."""
        with self._lock:
            self._loaded_at.clear()

    def due(self, sobjects: Iterable[str], now: datetime) -> list[str]:
        """The sObjects never described, or described longer than `max_age` ago."""
        with self._lock:
            loaded, failed = dict(self._loaded_at), dict(self._failed_at)
        return sorted(
            s
            for s in set(sobjects)
            if (s not in loaded or now - loaded[s] >= self.max_age)
            and (s not in failed or now - failed[s] >= RETRY_AFTER)
        )

    def refresh(self, sobjects: Iterable[str], now: datetime | None = None) -> dict[str, str]:
        """Describe the given sObjects now; returns the error of each one that failed."""
        now = now or utcnow()
        errors: dict[str, str] = {}
        if self.client is None:
            return errors
        for sobject in sorted(set(sobjects)):
            try:
                self.load(sobject, self.client.describe(sobject), now)
                with self._lock:
                    self._failed_at.pop(sobject, None)
            except SalesforceError as error:
                with self._lock:
                    self._failed_at[sobject] = now
                if error.status == 404:
                    # no such sObject for this user: every field named on it is missing
                    self.load(sobject, {"fields": []}, now)
                errors[sobject] = str(error)
                log.warning("describe %s failed: %s", sobject, error)
        return errors


def sobjects_of(specs: Iterable[WorkflowSpec]) -> set[str]:
    """Every sObject whose fields the workflows allowlist or gate on."""
    names = set()
    for spec in specs:
        names |= {name.split(".")[0] for name in spec.allowed_outputs.fields}
        for rule in spec.gate:
            names |= {name.split(".")[0] for name in rule.when.fields_any or []}
        names |= {name.split(".")[0] for _where, name in _read_fields(spec)}
    return names


def _read_fields(spec: WorkflowSpec) -> list[tuple[str, str]]:
    """(where, SObject.Field) of every field the workflow only reads: outcomes and segments."""
    found = [
        (f"outcome.metrics.{index}.field", metric.field)
        for index, metric in enumerate(spec.outcome.metrics)
    ]
    return found + ([("segment_by", spec.segment_by)] if spec.segment_by else [])


def spec_problems(spec: WorkflowSpec, catalog: FieldCatalog) -> list[FieldProblem]:
    """Allowlisted fields that do not exist or are not updateable; gate, outcome and segment
    fields that do not exist or are hidden; provenance fields missing from a written sObject.
    Unknown sObjects are skipped."""
    problems = []
    allowed = spec.allowed_outputs.fields
    for name in allowed:
        message = _unusable(catalog, name, must_update=True)
        if message:
            problems.append(FieldProblem(spec.id, "allowed_outputs.fields", name, message))
    for index, rule in enumerate(spec.gate):
        for name in rule.when.fields_any or []:
            message = None if name in allowed else _unusable(catalog, name, must_update=False)
            if message:
                where = f"gate.{index}.when.fields_any"
                problems.append(FieldProblem(spec.id, where, name, message))
    for where, name in _read_fields(spec):
        message = _unusable(catalog, name, must_update=False)
        if message:
            problems.append(FieldProblem(spec.id, where, name, message))
    for key in ("authority_field", "item_field"):
        stamp = getattr(spec.writeback, key)
        for sobject in sorted({name.split(".")[0] for name in allowed}) if stamp else []:
            message = _unusable(catalog, f"{sobject}.{stamp}", must_update=True)
            if message:
                where = f"writeback.{key}"
                problems.append(FieldProblem(spec.id, where, f"{sobject}.{stamp}", message))
    return problems


def _unusable(catalog: FieldCatalog, qualified: str, *, must_update: bool) -> str | None:
    """Why the integration user cannot use the field; None if it can or the sObject is unknown."""
    sobject, _, name = qualified.partition(".")
    if not catalog.known(sobject):
        return None
    meta = catalog.field(sobject, name)
    if meta is None:
        return (
            "does not exist in this org or is hidden from the integration user (field-level "
            "security): create it or grant the integration user access"
        )
    if must_update and not meta.updateable:
        return "is read-only for the integration user: Airlock could never write it"
    return None
