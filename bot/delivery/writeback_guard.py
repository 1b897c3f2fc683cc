"""What reaches Salesforce is what a person (or the policy) decided, and nothing edited since.

An item's decision event records a digest of each bound field as the decision left it
(bot.core.chain.item_state). If the row now holds other values of a decided field (`changes`,
`record_id`, `decision`, ...), the database was edited outside Airlock after the decision:
writing it would send values nobody approved. `airlock audit verify` names such an edit
afterwards (bot.core.audit, FROZEN_AFTER_DECISION); this refuses to write it in the first place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from bot.core.audit import DECIDED, FROZEN_AFTER_DECISION, frozen_changes
from bot.core.chain import field_digest, item_stream
from models import Event, Item


def edited_after_decision(session: Session, items: Sequence[Item]) -> dict[str, str]:
    """Why each item whose row differs from its decision must not be written, by item id."""
    decided = _decision_states(session, [item.id for item in items])
    refused: dict[str, str] = {}
    for item in items:
        found = decided.get(item.id)
        if found is None:  # decided before item states were recorded: nothing to compare
            continue
        seq, state = found
        now = {name: field_digest(getattr(item, name)) for name in FROZEN_AFTER_DECISION}
        changed = frozen_changes(now, state)
        if changed:
            refused[item.id] = (
                f"{', '.join(changed)} changed outside Airlock after the decision (event #{seq}); "
                "not written. Run `airlock audit verify`, then submit the change again."
            )
    return refused


def _decision_states(session: Session, item_ids: list[str]) -> dict[str, tuple[int, Any]]:
    """Each item's first event whose recorded state is decided: (seq, state)."""
    streams = [item_stream(item_id) for item_id in item_ids]  # read by the (stream, seq) index
    status = Event.__table__.c.state["status"].as_string()  # type: ignore[attr-defined]
    query = (
        select(Event.item_id, Event.seq, Event.state)
        .where(col(Event.stream).in_(streams), status.in_(sorted(DECIDED)))
        .order_by(col(Event.stream), col(Event.seq))
    )
    found: dict[str, tuple[int, Any]] = {}
    for item_id, seq, state in session.exec(query):
        if item_id and item_id not in found:
            found[item_id] = (seq, state)
    return found
