"""What a review card is built from: the item's view, and facts read before the builder runs.

Pure data: the builders in bot.slack.blocks never call Salesforce or Slack;
bot.slack.card_facts reads the record's name, labels and live values, and bot.slack.delivery works
out who is next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RecordFacts:
    """What Salesforce said when the card was built; empty when it was not asked."""

    name: str | None = None  # the record's Name (Case: number and subject)
    labels: Mapping[str, str] = field(default_factory=dict)  # field key -> describe() label
    live: Mapping[str, Any] | None = None  # field -> value now; None: not read
    stale: frozenset[str] = frozenset()  # fields Salesforce changed since the agent looked
    unreadable: str | None = None  # why the live values could not be read (outage)


@dataclass(frozen=True)
class Next:
    """What happens next: who the item escalates to, and what Approve does for this item."""

    escalates_to: str | None = None  # Slack id; None: nobody is above, it expires
    escalates_as: str = "manager"  # "manager" or "workflow owner"
    writes_changes: bool = False  # Approve writes the field changes to Salesforce
    creates_task: bool = False  # Approve creates the task in Salesforce
    tells_agent: bool = False  # the decision webhook hands the verdict to the agent


@dataclass(frozen=True)
class Card:
    """What the card needs beyond the item view: names, the reviewer's zone, the deadline."""

    view: dict[str, Any]
    workflow_name: str
    tz: str = "UTC"
    escalate_at: datetime | None = None
    for_manager: bool = False
    facts: RecordFacts = field(default_factory=RecordFacts)
    next: Next = field(default_factory=Next)
    snoozable: bool = True  # False once snoozed MAX_SNOOZES times: the menu would only refuse
