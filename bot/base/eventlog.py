"""One structured (JSON) log line per audit event, written only after its transaction commits.

Operators tail logs long before they open the audit trail: decisions, conflicts, failed writes and
pauses each show up as one INFO line of `airlock.events`, and a rolled-back change logs nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("airlock.events")
PENDING = "airlock_pending_events"
_DETAIL_CHARS = 200


def note(info: dict[Any, Any], rows: list[dict[str, Any]]) -> None:
    """Remember event rows on a transaction's `info`, to log once it has committed."""
    pending = info.get(PENDING)
    if pending is not None:
        pending.extend(rows)


def emit(rows: list[dict[str, Any]]) -> None:
    """Log each committed event as one JSON line."""
    if not log.isEnabledFor(logging.INFO):
        return
    for row in rows:
        log.info(json.dumps(line(row), default=str, ensure_ascii=False))


def line(row: dict[str, Any]) -> dict[str, Any]:
    """The log line of one event row: ids, type, actor and its short scalar details."""
    out: dict[str, Any] = {
        "event": row["type"],
        "workflow": row["workflow_id"],
        "item": row["item_id"],
        "actor": row["actor"],
        "at": row["at"].isoformat(),
    }
    for key, value in (row.get("data") or {}).items():
        if isinstance(value, bool | int | float) or value is None:
            out.setdefault(key, value)
        elif isinstance(value, str):
            out.setdefault(key, value[:_DETAIL_CHARS])
    return out


def configure(level: int = logging.INFO) -> None:
    """Process logging for `airlock serve`: what happened at INFO, scheduler ticks at DEBUG."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger().setLevel(level)
    # APScheduler logs "Running job" and "executed successfully" at INFO on every tick (two
    # lines each 5 s); the ticker logs its own ticks at DEBUG instead.
    logging.getLogger("apscheduler.executors").setLevel(max(level, logging.WARNING))
    # Alembic logs each plugin it sets up and each migration step at INFO (twenty lines on a
    # first start); the database says in one line which schema it upgraded (bot.base.db).
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
