"""Valid intake bodies for every kind, for tests and benchmarks (shared with the sandbox)."""

from bot.sandbox.samples import (
    EVERY_KIND,
    OPP_ID,
    brief,
    decision,
    field_update,
    message_draft,
    recommendation,
    source,
    summary,
    task,
)

__all__ = [
    "EVERY_KIND",
    "OPP_ID",
    "brief",
    "decision",
    "field_update",
    "message_draft",
    "recommendation",
    "source",
    "summary",
    "task",
]
