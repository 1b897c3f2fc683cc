"""Quiet hours: no reminders at night or at weekends, in the reviewer's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.spec_model import QuietHours

_STEP = timedelta(minutes=15)
_HORIZON = 4 * 24 * 4  # four days of 15-minute steps covers any night plus a weekend


def zone(tz: str) -> ZoneInfo:
    """The zone, or UTC when Slack gave us nothing usable."""
    try:
        return ZoneInfo(tz)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def is_quiet(moment: datetime, quiet: QuietHours) -> bool:
    """Whether a local moment falls at night or, if configured, at a weekend."""
    if quiet.weekends and moment.weekday() >= 5:
        return True
    return _in_window(moment.time(), quiet.start, quiet.end)


def quiet_until(now: datetime, tz: str, quiet: QuietHours) -> datetime | None:
    """The first moment (UTC) after `now` that is not quiet, or None if `now` is not quiet."""
    local = now.astimezone(zone(tz))
    if not is_quiet(local, quiet):
        return None
    moment = local.replace(second=0, microsecond=0)
    for _ in range(_HORIZON):
        moment += _STEP
        if not is_quiet(moment, quiet):
            return moment.astimezone(UTC)
    return (local + timedelta(days=4)).astimezone(UTC)


def _in_window(moment: time, start: time, end: time) -> bool:
    # A window like 19:00-08:00 wraps midnight.
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end
