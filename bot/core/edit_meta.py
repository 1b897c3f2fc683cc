"""What the org's field metadata tells the Edit modal: picklist values and text lengths."""

from __future__ import annotations

from bot.base.submission import qualify
from bot.core.runtime import Runtime
from models import Item


def edit_choices(rt: Runtime, item: Item) -> dict[str, tuple[str, ...]]:
    """The org's picklist values for the item's record fields, from the describe cache.

    A field the cache does not know (not described yet, or not a single-value picklist) has
    none: the Edit modal then takes typed text rather than guessing the org's values.
    """
    if not item.record_sobject:
        return {}
    choices = {}
    for change in item.changes:
        meta = rt.fields.field(item.record_sobject, change["field"])
        if meta is not None and meta.type == "picklist" and meta.picklist:
            choices[change["field"]] = meta.picklist
    return choices


def edit_limits(rt: Runtime, item: Item) -> dict[str, int]:
    """Text lengths the org's field metadata sets for the fields a reviewer may edit."""
    limits: dict[str, int] = {}
    for change in item.changes:
        sobject, _, name = qualify(item.record_sobject or "", change["field"]).rpartition(".")
        meta = rt.fields.field(sobject, name)
        if meta is not None and meta.length:
            limits[change["field"]] = meta.length
    return limits
