"""The vocabulary of risk: action levels, gates, kinds and statuses, ordered where it matters."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Action levels, from least to most risk."""

    READ_ONLY = "read_only"
    DRAFT = "draft"
    RECOMMENDATION = "recommendation"
    TASK = "task"
    CRM_WRITE = "crm_write"
    EXTERNAL_MESSAGE = "external_message"
    CUSTOMER_DECISION = "customer_decision"

    @property
    def rank(self) -> int:
        """Position in the risk order."""
        return list(Level).index(self)


class Gate(StrEnum):
    """Where an item goes: accepted, to the rep, to the manager, or refused."""

    AUTO = "auto"
    REP = "rep"
    MANAGER = "manager"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        """Position in the strictness order."""
        return list(Gate).index(self)


class Kind(StrEnum):
    """What an agent can submit."""

    BRIEF = "brief"
    SUMMARY = "summary"
    RECOMMENDATION = "recommendation"
    TASK = "task"
    FIELD_UPDATE = "field_update"
    MESSAGE_DRAFT = "message_draft"
    DECISION = "decision"


class Mode(StrEnum):
    """How much a workflow is trusted: record only, human review, or earned autopilot."""

    SHADOW = "shadow"
    REVIEW = "review"
    AUTOPILOT = "autopilot"


class Status(StrEnum):
    """Item statuses; only bot.core.lifecycle moves an item between them."""

    HELD = "held"
    BLOCKED = "blocked"
    PENDING = "pending"
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"
    EXPIRED = "expired"
    AUTO_ACCEPTED = "auto_accepted"
    SHADOWED = "shadowed"
    # Outcome holdout: recorded and checked like any item, never posted, written or reminded.
    HELD_OUT = "held_out"


class Authority(StrEnum):
    """Whether a named human confirmed an item."""

    ADVISORY = "advisory"
    CONFIRMED = "confirmed"


class WritebackState(StrEnum):
    """What became of an item's Salesforce write."""

    NONE = "none"
    QUEUED = "queued"
    WRITTEN = "written"
    CONFLICT = "conflict"
    FAILED = "failed"
    REVERTED = "reverted"  # undone, or changed back in Salesforce by a person


DEFAULT_GATE: dict[Level, Gate] = {
    Level.READ_ONLY: Gate.AUTO,
    Level.DRAFT: Gate.REP,
    Level.RECOMMENDATION: Gate.REP,
    Level.TASK: Gate.REP,
    Level.CRM_WRITE: Gate.REP,
    Level.EXTERNAL_MESSAGE: Gate.REP,
    Level.CUSTOMER_DECISION: Gate.MANAGER,
}

# The least risky level each kind can have; content (changes, a task, a recipient) can raise it.
KIND_LEVEL: dict[Kind, Level] = {
    Kind.BRIEF: Level.READ_ONLY,
    Kind.SUMMARY: Level.DRAFT,
    Kind.RECOMMENDATION: Level.RECOMMENDATION,
    Kind.TASK: Level.TASK,
    Kind.FIELD_UPDATE: Level.CRM_WRITE,
    Kind.MESSAGE_DRAFT: Level.DRAFT,
    Kind.DECISION: Level.CUSTOMER_DECISION,
}

# Autopilot may never lower these below a human.
NEVER_AUTO = frozenset({Level.EXTERNAL_MESSAGE, Level.CUSTOMER_DECISION})

OPEN_STATUSES = frozenset({Status.HELD, Status.PENDING})
DECIDED_STATUSES = frozenset({Status.APPROVED, Status.EDITED, Status.REJECTED})


def max_level(*levels: Level) -> Level:
    """The riskiest of the given levels."""
    return max(levels, key=lambda lv: lv.rank)


def max_gate(*gates: Gate) -> Gate:
    """The strictest of the given gates."""
    return max(gates, key=lambda g: g.rank)
