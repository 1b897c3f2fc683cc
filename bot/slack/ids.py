"""Every Slack action id, callback id and slash sub-command, spelled once."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Button action ids; each button's value is the item id (or workflow id on Home)."""

    APPROVE = "airlock_approve"
    EDIT = "airlock_edit"
    REJECT = "airlock_reject"
    PAUSE = "airlock_home_pause"
    RESUME = "airlock_home_resume"
    OPEN_LINK = "airlock_open_link"
    BUNDLE_APPROVE = "airlock_bundle_approve"  # a bundle row's Approve (value: the item id)
    APPROVE_ALL = "airlock_approve_all"  # a bundle's Approve all (value: the bundle id)
    SNOOZE = "airlock_snooze"  # a static_select; each option's value is "<item id>|<choice>"


class View(StrEnum):
    """Modal callback ids."""

    EDIT = "airlock_edit_modal"
    REJECT = "airlock_reject_modal"


class Command(StrEnum):
    """`/airlock` sub-commands."""

    PAUSE = "pause"
    RESUME = "resume"
    STATUS = "status"
    QUEUE = "queue"
    TRACE = "trace"
    STATS = "stats"
    PROMOTE = "promote"
    DEMOTE = "demote"
    DELEGATE = "delegate"
    REVERT = "revert"
    HELP = "help"


SLASH_COMMAND = "/airlock"
# Bolt context key: time.monotonic() when Slack's request reached /slack/events, so a slash
# command's ack budget counts the checks that ran before its listener.
ARRIVED = "airlock_arrived"
CARD_EVENT = "airlock_card"  # Slack message metadata event_type of every card Airlock posts
BUTTON_LABELS = {Action.APPROVE: "Approve", Action.EDIT: "Edit", Action.REJECT: "Reject"}
REJECT_BLOCK = "reject_category"
REJECT_TEXT_BLOCK = "reject_text"
FIELD_BLOCK_PREFIX = "edit:"
