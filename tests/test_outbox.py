"""The outbox: atomic claims, leases that survive a crash, backoff, no double delivery."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.core.outbox import OutboxWorker, Outcome, Route, backoff, enqueue
from bot.core.runtime import Runtime
from models import Outbox, OutboxAttempt
from models.types import utcnow


def fill(rt: Runtime, n: int, kind: str = "test.effect", workflow: str | None = None) -> None:
    with rt.db.write() as session:
        for i in range(n):
            enqueue(
                session, kind=kind, dedupe_key=f"{kind}:{i}", payload={"n": i}, workflow_id=workflow
            )


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.start = (utcnow() + timedelta(seconds=1)).replace(microsecond=0)
        self.now = self.start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def rows(rt: Runtime) -> list[Outbox]:
    with rt.db.read() as session:
        return list(session.exec(select(Outbox).order_by(col(Outbox.id))))


def recording_route(log: Counter[int], pause: float = 0.0, batch: int = 5) -> Route:
    lock = threading.Lock()

    def deliver(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        time.sleep(pause)
        with lock:
            for row in batch_rows:
                log[row.payload["n"]] += 1
        return {row.id or 0: Outcome.done() for row in batch_rows}

    return Route(deliver, batch_size=batch)


def test_enqueue_same_key_is_noop(rt: Runtime) -> None:
    fill(rt, 3)
    fill(rt, 3)
    assert len(rows(rt)) == 3


def test_deliver_records_attempts(rt: Runtime) -> None:
    fill(rt, 4)
    log: Counter[int] = Counter()
    worker = OutboxWorker(rt.db, {"test.effect": recording_route(log)})
    assert worker.drain() == 4
    assert log == Counter({0: 1, 1: 1, 2: 1, 3: 1})
    assert {r.status for r in rows(rt)} == {"done"}
    with rt.db.read() as session:
        attempts = session.exec(select(OutboxAttempt)).all()
    assert [a.outcome for a in attempts] == ["done"] * 4


def test_two_workers_never_deliver_twice(rt: Runtime) -> None:
    fill(rt, 60)
    log: Counter[int] = Counter()
    route = recording_route(log, pause=0.005, batch=3)
    workers = [OutboxWorker(rt.db, {"test.effect": route}, worker_id=f"w{i}") for i in range(2)]
    threads = [threading.Thread(target=w.drain, kwargs={"max_rounds": 200}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(log) == list(range(60))
    assert set(log.values()) == {1}
    assert {r.claimed_by for r in rows(rt)} == {"w0", "w1"}


def test_crash_after_claim_redelivered_after_lease(rt: Runtime) -> None:
    fill(rt, 1)
    crashed = OutboxWorker(rt.db, {}, worker_id="crashed", lease=timedelta(milliseconds=300))
    claimed = crashed.claim(["test.effect"], 10)
    assert len(claimed) == 1
    log: Counter[int] = Counter()
    rescuer = OutboxWorker(rt.db, {"test.effect": recording_route(log)}, worker_id="rescuer")
    assert rescuer.run_once() == 0  # still leased
    time.sleep(0.35)
    assert rescuer.run_once() == 1
    assert log == Counter({0: 1})
    # The crashed worker's late report must not overwrite the rescuer's result.
    assert crashed.finish(claimed[0], Outcome.retry("late"), utcnow()) is False
    assert rows(rt)[0].status == "done"
    assert rows(rt)[0].attempts == 2


def test_retry_backs_off_then_dies(rt: Runtime) -> None:
    fill(rt, 1)

    def flaky(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        return {r.id or 0: Outcome.retry("503 from upstream") for r in batch_rows}

    worker = OutboxWorker(rt.db, {"test.effect": Route(flaky)}, backoff_base=0.0)
    worker.drain(max_rounds=30)
    row = rows(rt)[0]
    assert row.status == "dead"
    assert row.attempts == row.max_attempts
    assert "gave up after 12 attempts" in (row.last_error or "")


def test_retry_waits_for_backoff(rt: Runtime) -> None:
    fill(rt, 1)
    outcomes = iter([Outcome.retry("busy", delay=60), Outcome.done()])

    def once(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        return {r.id or 0: next(outcomes) for r in batch_rows}

    worker = OutboxWorker(rt.db, {"test.effect": Route(once)})
    assert worker.drain() == 1
    row = rows(rt)[0]
    assert row.status == "pending"
    assert row.due_at > utcnow() + timedelta(seconds=50)


def test_handler_exception_is_retried(rt: Runtime) -> None:
    fill(rt, 1)

    def boom(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        raise ConnectionError("socket closed")

    OutboxWorker(rt.db, {"test.effect": Route(boom)}).run_once()
    row = rows(rt)[0]
    assert row.status == "pending"
    assert row.last_error == "ConnectionError: socket closed"


def test_paused_workflow_rows_wait(rt: Runtime) -> None:
    from bot.core import lifecycle

    fill(rt, 2, workflow="opp-hygiene")
    with rt.db.write() as session:
        lifecycle.set_paused(session, "opp-hygiene", paused=True, actor="user:U0OLIVIA")
    log: Counter[int] = Counter()
    worker = OutboxWorker(rt.db, {"test.effect": recording_route(log)})
    assert worker.drain() == 0
    with rt.db.write() as session:
        lifecycle.set_paused(session, "opp-hygiene", paused=False, actor="user:U0OLIVIA")
    assert worker.drain() == 2
    assert log == Counter({0: 1, 1: 1})


def test_backoff_grows_and_caps() -> None:
    delays = [backoff(n, 2.0) for n in range(1, 12)]
    assert 1.6 <= delays[0] <= 2.4
    assert delays[3] > delays[1]
    assert max(delays) <= 900 * 1.2


def test_poison_row_fails_alone(rt: Runtime) -> None:
    fill(rt, 5)
    log: Counter[int] = Counter()

    def deliver(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        if any(row.payload["n"] == 2 for row in batch_rows):
            raise FileNotFoundError("workflows/gone.yml")  # one row's handler blows up
        for row in batch_rows:
            log[row.payload["n"]] += 1
        return {row.id or 0: Outcome.done() for row in batch_rows}

    worker = OutboxWorker(rt.db, {"test.effect": Route(deliver, batch_size=5)})
    worker.run_once()
    by_n = {row.payload["n"]: row for row in rows(rt)}
    assert log == Counter({0: 1, 1: 1, 3: 1, 4: 1})
    assert {n: r.status for n, r in by_n.items() if n != 2} == dict.fromkeys([0, 1, 3, 4], "done")
    assert by_n[2].status == "pending"
    assert "FileNotFoundError" in (by_n[2].last_error or "")


def test_wait_spends_no_attempts_until_deadline(rt: Runtime) -> None:
    fill(rt, 1)
    clock = FakeClock()
    told: list[str] = []

    def down(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        return {r.id or 0: Outcome.wait("Salesforce 503", delay=3600) for r in batch_rows}

    worker = OutboxWorker(
        rt.db,
        {"test.effect": Route(down)},
        clock=clock,
        give_up_after=timedelta(days=2),
        on_give_up=lambda _session, row, reason: told.append(f"{row.id}:{reason}"),
    )
    for _ in range(40):  # 40 hours of outage: far more than 12 attempts
        assert worker.run_once() == 1
        row = rows(rt)[0]
        assert row.status == "pending" and row.attempts == 0
        clock.advance(hours=1)
    assert (row.result or {}).get("waiting_since") == (clock.start).isoformat()
    clock.advance(hours=9)
    worker.run_once()
    row = rows(rt)[0]
    assert row.status == "dead"
    assert "gave up after waiting since" in (row.last_error or "")
    assert len(told) == 1 and "Salesforce 503" in told[0]


def test_worker_crash_loop_is_not_claimed_forever(rt: Runtime) -> None:
    fill(rt, 1)
    told: list[str] = []
    crasher = OutboxWorker(rt.db, {}, worker_id="crasher", lease=timedelta(milliseconds=1))
    for _ in range(12):  # each claim is a worker that died before it could report
        assert len(crasher.claim(["test.effect"], 10)) == 1
        time.sleep(0.005)
    assert crasher.claim(["test.effect"], 10) == []
    log: Counter[int] = Counter()
    rescuer = OutboxWorker(
        rt.db,
        {"test.effect": recording_route(log)},
        on_give_up=lambda _session, row, reason: told.append(reason),
    )
    assert rescuer.run_once() == 0
    row = rows(rt)[0]
    assert row.status == "dead" and log == Counter()
    assert "12" in (row.last_error or "") and len(told) == 1
    rescuer.run_once()
    assert len(told) == 1


@pytest.mark.real_time
def test_lease_renewed_while_a_slow_batch_works(rt: Runtime) -> None:
    fill(rt, 6)
    log: Counter[int] = Counter()
    route = recording_route(log, pause=1.0, batch=3)
    lease = timedelta(milliseconds=300)
    workers = [
        OutboxWorker(rt.db, {"test.effect": route}, worker_id=f"w{i}", lease=lease)
        for i in range(2)
    ]
    threads = [threading.Thread(target=w.drain, kwargs={"max_rounds": 10}) for w in workers]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    assert sorted(log) == list(range(6))
    assert set(log.values()) == {1}, f"delivered twice: {log}"


def test_claim_shrinks_to_fit_the_lease(rt: Runtime) -> None:
    fill(rt, 20)
    sizes: list[int] = []

    def slow(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        sizes.append(len(batch_rows))
        time.sleep(0.05 * len(batch_rows))  # 50 ms a row
        return {row.id or 0: Outcome.done() for row in batch_rows}

    worker = OutboxWorker(
        rt.db, {"test.effect": Route(slow, batch_size=10)}, lease=timedelta(milliseconds=400)
    )
    worker.drain()
    assert sizes[0] == 10
    # 400 ms of lease at 50 ms a row: later claims take what fits in half the lease
    assert max(sizes[1:]) <= 4
    assert sum(sizes) == 20


def test_recovery_releases_rows_waiting_out_the_outage(rt: Runtime) -> None:
    fill(rt, 3)
    clock = FakeClock()
    up = {"now": False}

    def service(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        if up["now"]:
            return {r.id or 0: Outcome.done() for r in batch_rows}
        return {r.id or 0: Outcome.wait("503", delay=1800) for r in batch_rows}

    worker = OutboxWorker(rt.db, {"test.effect": Route(service, batch_size=1)}, clock=clock)
    assert worker.drain() == 3  # each waits half an hour
    up["now"] = True
    clock.advance(minutes=30, seconds=1)
    assert worker.run_once() == 1  # the first row is due; it gets through
    assert worker.run_once() == 1 and worker.run_once() == 1  # the others are released at once
    assert {r.status for r in rows(rt)} == {"done"}


def test_hold_kind_while_service_refuses_everyone(rt: Runtime) -> None:
    fill(rt, 10)
    clock = FakeClock()
    sizes: list[int] = []

    def limited(batch_rows: Sequence[Outbox]) -> dict[int, Outcome]:
        sizes.append(len(batch_rows))
        return {r.id or 0: Outcome.wait("limit", delay=300, hold=True) for r in batch_rows}

    worker = OutboxWorker(rt.db, {"test.effect": Route(limited, batch_size=5)}, clock=clock)
    assert worker.run_once() == 5
    assert worker.run_once() == 0 and worker.holding("test.effect")  # the other 5 not tried
    clock.advance(seconds=301)
    assert worker.run_once() == 1  # one row probes; the rest wait for its answer
    assert sizes == [5, 1]
