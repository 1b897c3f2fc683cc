"""Quiet hours end at the exact configured minute, across weekends and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.base.quiet import quiet_until
from bot.base.spec_model import QuietHours

NY = "America/New_York"


def test_quiet_until_ends_at_the_configured_minute() -> None:
    # 23:07:30 on Tuesday in New York: the night ends at 08:00 sharp, not on a 15-minute grid.
    night = datetime(2026, 11, 25, 4, 7, 30, tzinfo=UTC)
    assert quiet_until(night, NY, QuietHours()) == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    early = datetime(2026, 11, 25, 12, 52, 30, tzinfo=UTC)  # 07:52:30 local
    assert quiet_until(early, NY, QuietHours()) == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def test_quiet_until_odd_end_minute() -> None:
    quiet = QuietHours(start=time(18, 45), end=time(7, 20), weekends=False)
    monday_night = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # Monday 19:00 in New York
    assert quiet_until(monday_night, NY, quiet) == datetime(2026, 11, 24, 12, 20, tzinfo=UTC)


def test_quiet_until_skips_weekend_to_monday_morning() -> None:
    saturday = datetime(2026, 11, 28, 15, 13, tzinfo=UTC)
    assert quiet_until(saturday, NY, QuietHours()) == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    friday_night = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Friday 21:00
    assert quiet_until(friday_night, NY, QuietHours()) == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


def test_quiet_until_without_weekends_ends_next_morning() -> None:
    saturday_night = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # Saturday 23:00
    quiet = QuietHours(weekends=False)
    assert quiet_until(saturday_night, NY, quiet) == datetime(2026, 11, 29, 13, 0, tzinfo=UTC)


def test_quiet_until_across_daylight_saving_changes() -> None:
    # Clocks fall back on Sunday 2026-11-01: Monday 08:00 is EST (UTC-5).
    fall = datetime(2026, 10, 31, 3, 0, tzinfo=UTC)  # Friday 23:00 EDT
    assert quiet_until(fall, NY, QuietHours()) == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)
    # Clocks spring forward on Sunday 2026-03-08: Monday 08:00 is EDT (UTC-4).
    spring = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)  # Friday 20:00 EST
    assert quiet_until(spring, NY, QuietHours()) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def test_quiet_until_none_in_working_hours() -> None:
    assert quiet_until(datetime(2026, 11, 25, 15, 0, tzinfo=UTC), NY, QuietHours()) is None
