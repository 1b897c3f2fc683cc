"""Quiet hours: no reminders at night or at weekends, in the reviewer's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.base.spec_model import QuietHours

# Friday night -> Saturday -> Sunday -> Monday 00:00 -> Monday's end of night: a handful at most.
_MAX_BOUNDARIES = 8


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
    """The exact moment (UTC) the quiet time around `now` ends, or None if `now` is not quiet.

    Jumps from one boundary to the next (end of the night, end of the weekend) in local time, so
    the answer is 08:00 sharp, across midnight, weekends and daylight-saving changes.
    """
    local = now.astimezone(zone(tz))
    if not is_quiet(local, quiet):
        return None
    moment = local
    for _ in range(_MAX_BOUNDARIES):
        if not is_quiet(moment, quiet):
            return moment.astimezone(UTC)
        moment = _next_boundary(moment, quiet)
    raise AssertionError(f"quiet hours {quiet} never end")  # unreachable: nights end every day


def _next_boundary(moment: datetime, quiet: QuietHours) -> datetime:
    """Where the quiet reason holding at `moment` stops: next midnight at a weekend, else `end`."""
    tzinfo = moment.tzinfo
    if quiet.weekends and moment.weekday() >= 5:
        return datetime.combine(moment.date() + timedelta(days=1), time(0), tzinfo)
    end = datetime.combine(moment.date(), quiet.end, tzinfo)
    if end <= moment:
        end = datetime.combine(moment.date() + timedelta(days=1), quiet.end, tzinfo)
    return end


def _in_window(moment: time, start: time, end: time) -> bool:
    # A window like 19:00-08:00 wraps midnight.
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end
