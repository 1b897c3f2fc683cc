"""Field values compared as Salesforce means them: the write-back's conflict check, the card."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def same(current: Any, expected: Any) -> bool:
    """Equal as Salesforce means it: numbers as numbers, ISO times as instants, None as ""."""
    if current in (None, "") or expected in (None, ""):
        return current in (None, "") and expected in (None, "")
    if isinstance(current, bool) or isinstance(expected, bool):
        return str(current).lower() == str(expected).lower()
    if isinstance(current, int | float) or isinstance(expected, int | float):
        try:
            return Decimal(str(current)) == Decimal(str(expected))
        except InvalidOperation:
            return False
    if current == expected:
        return True
    instant = _instant(current)
    return instant is not None and instant == _instant(expected)


def _instant(value: Any) -> datetime | None:
    text = str(value)
    if len(text) < 10 or text[4:5] != "-" or text[7:8] != "-":
        return None  # only ISO dates and times; "2024" or "1.5" are not instants
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
