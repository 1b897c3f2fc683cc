"""Per field, what a reviewer's decision did with each proposed change: applied, changed, declined.

Read from the stored decision (`edits` and `declined`), so the card and the trace say the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

APPLIED, CHANGED, DECLINED = "applied", "changed", "declined"


def field_outcomes(
    changes: Sequence[Mapping[str, Any]], decision: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """One row per proposed change once decided field by field; none for other decisions.

    A decision is field by field when it names declined fields (an empty list counts: the Edit
    modal always stores it), so older decisions keep their old rendering.
    """
    if not decision or "declined" not in decision:
        return []
    declined = set(decision["declined"])
    edits = decision.get("edits") or {}
    rows = []
    for change in changes:
        name = change["field"]
        if name in declined:
            rows.append({"field": name, "outcome": DECLINED, "proposed": change["value"]})
        elif name in edits:
            rows.append(
                {"field": name, "outcome": CHANGED, "proposed": edits[name]["from"]}
                | {"written": edits[name]["to"]}
            )
        else:
            rows.append(
                {"field": name, "outcome": APPLIED, "proposed": change["value"]}
                | {"written": change["value"]}
            )
    return rows


def outcome_text(row: Mapping[str, Any]) -> str:
    """A row as plain text, for the trace."""
    if row["outcome"] == DECLINED:
        return f"{row['field']}: declined (not written; proposed {row['proposed']!r})"
    if row["outcome"] == CHANGED:
        return f"{row['field']}: changed {row['proposed']!r} -> {row['written']!r}"
    return f"{row['field']}: applied {row['written']!r}"
