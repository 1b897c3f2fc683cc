"""Pause and resume against work in flight, with real threads (and real locks on PostgreSQL)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import event

from bot.core import control, release, scoped_pause
from bot.core.effects import CARD
from bot.core.outbox import OutboxWorker, Outcome, Route
from bot.core.release import release_held
from bot.core.runtime import Runtime
from bot.core.scopes import parse_scope
from bot.service import Service
from models import Outbox
from tests import payloads
from tests.test_lifecycle import get, post

OWNER, WORKFLOW = "U0OLIVIA", "opp-hygiene"


def test_resume_racing_an_intake_strands_nothing(service: Service, agent_key: str) -> None:
    rt = service.rt
    control.pause(rt, WORKFLOW, OWNER, "checking")
    inserting, go = threading.Event(), threading.Event()
    intake_thread: list[threading.Thread] = []

    def hold_intake_insert(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The intake has read the pause flag and is about to store its item: hold it there.
        if threading.current_thread() in intake_thread and statement.startswith("INSERT INTO item"):
            inserting.set()
            go.wait(10)

    event.listen(rt.db.write_engine, "before_cursor_execute", hold_intake_insert)
    stored: list[str] = []
    intake = threading.Thread(
        target=lambda: stored.append(post(rt, agent_key, payloads.field_update()))
    )
    intake_thread.append(intake)
    intake.start()
    assert inserting.wait(10)
    resume = threading.Thread(target=control.resume, args=(rt, WORKFLOW, OWNER))
    resume.start()
    time.sleep(0.5)  # let the resume commit if nothing makes it wait for the intake
    go.set()
    intake.join(10)
    resume.join(10)
    event.remove(rt.db.write_engine, "before_cursor_execute", hold_intake_insert)
    # No sweep has run: the resume itself must have seen (or waited for) the intake's item.
    assert get(rt, stored[0]).status == "pending"
    assert release_held(rt) == []


def test_cards_claimed_before_a_pause_are_not_sent(service: Service, agent_key: str) -> None:
    rt = service.rt
    items = [post(rt, agent_key, payloads.field_update(idempotency_key=f"c{n}")) for n in range(3)]
    worker, slack = service.worker, service.integrations.sandbox.slack
    assert slack is not None
    rows = worker.claim([CARD], 10)
    assert len(rows) == 3
    control.pause(rt, WORKFLOW, OWNER, "stop")
    worker._deliver(CARD, worker.routes[CARD], rows)
    assert [m for i in items for m in slack.messages_for("U0MAYA") if i in m.text] == []
    with rt.db.read() as session:
        back = [session.get(Outbox, r.id) for r in rows]
    assert [(r.status, r.attempts, r.claimed_by) for r in back if r] == [("pending", 0, None)] * 3
    control.resume(rt, WORKFLOW, OWNER)
    worker.drain()
    assert all(get(rt, i).card_ts for i in items)


@pytest.mark.skipif(
    not os.environ.get("AIRLOCK_TEST_DATABASE_URL"),
    reason="SQLite runs one process; the send-time lock is PostgreSQL's",
)
def test_pause_waits_for_a_send_in_flight(service: Service, agent_key: str) -> None:
    rt = service.rt
    sending, go = threading.Event(), threading.Event()
    sent: list[int] = []

    def slow_send(rows: Sequence[Outbox]) -> dict[int, Outcome]:
        sending.set()
        go.wait(10)
        sent.extend(r.id or 0 for r in rows)
        return {r.id or 0: Outcome.done("sent") for r in rows}

    post(rt, agent_key, payloads.field_update())
    worker = OutboxWorker(rt.db, {CARD: Route(slow_send, batch_size=10)})
    delivery = threading.Thread(target=worker.run_once)
    delivery.start()
    assert sending.wait(10)
    paused_at: list[float] = []

    def press_pause() -> None:
        control.pause(rt, WORKFLOW, OWNER, "stop")
        paused_at.append(time.time())

    pause = threading.Thread(target=press_pause)
    pause.start()
    time.sleep(0.5)
    assert paused_at == []  # the pause waits for the send already under way ...
    go.set()
    delivery.join(10)
    pause.join(10)
    assert len(sent) == 1 and len(paused_at) == 1
    # ... and once it has returned, nothing of the workflow is sent any more.
    post(rt, agent_key, payloads.field_update(idempotency_key="after"))
    assert worker.run_once() == 0
    assert len(sent) == 1


def test_a_record_pause_during_a_release_waits_for_its_batch(
    rt: Runtime, agent_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once `/airlock pause record:X` has answered, nothing of record X may be released. A
    # release batch that read the stop buttons before the pause must commit before the pause
    # does (PostgreSQL: the batch holds the workflow rows FOR SHARE, the pause updates them;
    # SQLite: one writer at a time); otherwise it would release items after the pause answered.
    control.pause(rt, WORKFLOW, OWNER, "checking")
    first, second = (
        post(rt, agent_key, payloads.field_update(idempotency_key=key)) for key in ("r1", "r2")
    )
    control.resume(rt, WORKFLOW, OWNER, release=0)  # active, both still held
    inside, go = threading.Event(), threading.Event()
    real = release._release_one

    def held_mid_batch(*args: Any) -> Any:
        inside.set()
        assert go.wait(10)
        return real(*args)

    monkeypatch.setattr(release, "_release_one", held_mid_batch)
    taken: list[list[str]] = []
    releaser = threading.Thread(target=lambda: taken.append(release_held(rt, limit=1)))
    releaser.start()
    assert inside.wait(10)
    record = parse_scope(f"record:{payloads.OPP_ID}")
    presser = threading.Thread(target=scoped_pause.pause, args=(rt, record, OWNER, None, None))
    presser.start()
    try:
        presser.join(0.5)
        assert presser.is_alive(), "the pause answered while a release batch was still deciding"
    finally:
        go.set()  # never leave the releaser holding its transaction
        releaser.join(10)
        presser.join(10)
    monkeypatch.setattr(release, "_release_one", real)
    assert taken == [[first]]
    assert release_held(rt) == []  # the pause holds the rest of the record
    assert get(rt, second).status == "held"
