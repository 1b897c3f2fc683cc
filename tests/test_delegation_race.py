"""Two ticks ending the same due delegation at once: one ends it and tells both people once; the
other skips it (it used to delete the row a second time, which SQLAlchemy warns of on
PostgreSQL: "expected to delete 1 row(s); 0 were matched")."""

from __future__ import annotations

import contextlib
import threading
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.core import delegation
from bot.core.effects import NOTIFY
from bot.core.runtime import Runtime
from models import Delegation, Outbox

NOW = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)


def test_two_ticks_end_a_delegation_once(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    rt.clock = lambda: NOW
    with rt.db.write() as session:
        session.add(Delegation(delegator="U0MAYA", delegate="U0LEO", until=NOW - timedelta(1)))
    both_read = threading.Barrier(2, timeout=2)
    tell = delegation._tell

    def slow_tell(*args: object) -> None:
        # Each tick that found the row waits here for the other, so both read before either
        # deletes (unless the second skipped the row, which breaks the wait after 2 s).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        tell(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(delegation, "_tell", slow_tell)
    ended: list[list[str]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ticks = [threading.Thread(target=lambda: ended.append(delegation.end_due(rt)))]
        ticks.append(threading.Thread(target=lambda: ended.append(delegation.end_due(rt))))
        for tick in ticks:
            tick.start()
        for tick in ticks:
            tick.join(10)
    assert sorted(ended) == [[], ["U0MAYA"]]
    with rt.db.read() as session:
        assert session.exec(select(Delegation)).all() == []
        notices = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()
    assert sorted(n.payload["to"] for n in notices) == ["U0LEO", "U0MAYA"]
