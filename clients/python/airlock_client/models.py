"""Typed views of Airlock's answers; `raw` keeps every field, the attributes the common ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Statuses a human (or nobody) has still to settle; every other status is final.
UNDECIDED = frozenset({"pending", "held"})


@dataclass(frozen=True)
class Item:
    """An item as Airlock reports it: at intake (201) or from `GET /api/v1/items/{id}`."""

    id: str
    status: str
    gate: str
    level: str
    authority: str
    workflow: str | None = None
    decision: dict[str, Any] | None = None
    writeback_state: str | None = None
    replayed: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def decided(self) -> bool:
        """Whether the item has its final verdict (approved, edited, rejected, expired, ...)."""
        return self.status not in UNDECIDED

    @classmethod
    def from_json(cls, body: dict[str, Any], *, replayed: bool = False) -> Item:
        """Build from an answer body."""
        return cls(
            id=body["id"],
            status=body["status"],
            gate=body["gate"],
            level=body["level"],
            authority=body["authority"],
            workflow=body.get("workflow"),
            decision=body.get("decision"),
            writeback_state=body.get("writeback_state"),
            replayed=replayed,
            raw=body,
        )
