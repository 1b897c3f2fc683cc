"""Releasing held items honours a stop button pressed while the release runs (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlmodel import Session

from bot.core import control, scoped_pause
from bot.core.release import release_held
from bot.core.runtime import Runtime
from bot.core.scopes import parse_scope
from tests import payloads
from tests.test_lifecycle import get
from tests.writeback_support import post

OWNER = "U0OLIVIA"


def test_an_agent_paused_between_the_pick_and_the_release_stays_held(
    rt: Runtime, agent_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert control.pause(rt, "opp-hygiene", OWNER, "checking stages")
    item_id = post(rt, agent_key, payloads.field_update(idempotency_key="held"))
    assert get(rt, item_id).status == "held"
    control.resume(rt, "opp-hygiene", OWNER, release=0)

    # `pause agent:test-agent` commits just before the release's write transaction begins.
    real_write = rt.db.write

    @contextmanager
    def write_after_a_pause(*args: Any, **kwargs: Any) -> Iterator[Session]:
        monkeypatch.setattr(rt.db, "write", real_write)
        scoped_pause.pause(rt, parse_scope("agent:test-agent"), OWNER, "bad prompt", None)
        with real_write(*args, **kwargs) as session:
            yield session

    monkeypatch.setattr(rt.db, "write", write_after_a_pause)
    assert release_held(rt) == []
    assert get(rt, item_id).status == "held"

    scoped_pause.resume(rt, parse_scope("agent:test-agent"), OWNER)
    release_held(rt)
    assert get(rt, item_id).status == "pending"
