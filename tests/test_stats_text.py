"""`/airlock stats` reads as a short paragraph per workflow."""

from __future__ import annotations

from datetime import timedelta

from bot.reporting.queries import Stats
from bot.slack.blocks_home import span_text, stats_text


def test_stats_paragraph_per_workflow() -> None:
    busy = Stats(
        "opp-hygiene",
        120,
        60,
        10,
        20,
        5,
        25,
        timedelta(minutes=95),
        [("inaccurate", 12), ("wrong_record", 5)],
    )
    quiet = Stats("exec-outreach", 3, 0, 0, 0, 0, 3, None, [])
    assert stats_text([busy, quiet]) == (
        "*opp-hygiene*: 120 received, 25 waiting for a decision\n"
        "Accepted *78%* of 90 decided: 60 approved, 10 edited, 20 rejected\n"
        "Median time to decision: 1 h 35 min\n"
        "5 expired unanswered\n"
        "Top reject reasons: inaccurate (12), wrong record (5)\n\n"
        "*exec-outreach*: 3 received, 3 waiting for a decision\n"
        "No decisions yet."
    )
    assert stats_text([]) == "No workflows."


def test_span_text_as_people_say_it() -> None:
    assert [
        span_text(timedelta(seconds=s))
        for s in (20, 60 * 42, 3600 * 3 + 300, 3600, 86400 * 2 + 3600 * 4, 86400)
    ] == ["< 1 min", "42 min", "3 h 5 min", "1 h", "2 d 4 h", "1 d"]
