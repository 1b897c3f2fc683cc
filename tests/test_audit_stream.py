"""`audit verify` streams: events and checkpoints are read in bounded pages, never all at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text

from bot.core import checkpoint
from bot.core.audit import verify
from bot.core.runtime import Runtime
from tests import payloads
from tests.test_lifecycle import post

KEY = "stream-test-key"
PAGE = 4


@pytest.fixture
def history(rt: Runtime, agent_key: str) -> list[str]:
    """Twenty items with a checkpoint after every few, one of them tampered with."""
    rt.db.audit_key = KEY
    ids = []
    for n in range(20):
        ids.append(post(rt, agent_key, payloads.brief(title=f"Brief {n}")))
        if n % 3 == 2:
            checkpoint.write_checkpoint(rt.db, KEY)
    with rt.db.write() as session:
        session.execute(
            text("UPDATE event SET actor = 'agent:evil' WHERE stream = :i"), {"i": ids[7]}
        )
    return ids


@pytest.fixture
def statements(rt: Runtime) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the read engine runs, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    sa_event.listen(rt.db.read_engine, "before_cursor_execute", record)
    yield seen
    sa_event.remove(rt.db.read_engine, "before_cursor_execute", record)


def test_verify_reads_events_in_pages(
    rt: Runtime, history: list[str], statements: list[tuple[str, Any]]
) -> None:
    with rt.db.read() as session:
        whole = verify(session, KEY, batch=100_000)
    statements.clear()
    done: list[int] = []
    with rt.db.read() as session:
        paged = verify(session, KEY, batch=PAGE, progress=done.append)
    assert paged.problems == whole.problems
    assert [str(p) for p in paged.problems] == [
        f"{history[7]}: event #1 (received) was modified after it was written"
    ]
    assert (paged.checked, paged.events, paged.checkpoints) == (
        whole.checked,
        whole.events,
        whole.checkpoints,
    )
    assert paged.checkpoints == 6 and paged.events > 40
    assert sum(done) == paged.events and max(done) == PAGE
    event_reads = [(s, p) for s, p in statements if "event.data" in s]
    assert len(event_reads) > paged.events // PAGE  # one bounded page after another
    for sql, params in event_reads:
        assert "LIMIT" in sql.upper(), sql
        assert PAGE in (params.values() if isinstance(params, dict) else params), (sql, params)
    checkpoint_reads = [s for s, _ in statements if "audit_checkpoint.heads" in s]
    assert len(checkpoint_reads) >= paged.checkpoints // PAGE
    assert all("LIMIT" in s.upper() for s in checkpoint_reads)
