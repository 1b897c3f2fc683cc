"""SIGKILL of the write-back worker between Salesforce applying a PATCH and the worker recording
it, then a restart: nothing lost, nothing written twice."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from bot.core.runtime import Runtime
from bot.delivery.writeback import WRITE_LANES
from bot.sandbox.salesforce_standin import SalesforceStandin
from tests.reliability.figures import report
from tests.test_writeback_load import (
    NEW_STAGE,
    approve_all,
    assert_written_exactly_once,
    opportunities,
    wait_until,
    worker_process,
    written_items,
)


def test_survive_sigkill_mid_batch(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_ids = opportunities(standin, 400)
    approve_all(rt, agent_key, record_ids)
    # Salesforce applies the first PATCH, then the answer is slow: the kill lands in between.
    standin.set_delay("composite", 30.0)
    first = worker_process(rt, standin, tmp_path)
    try:
        wait_until(lambda: standin.applied_writes("Opportunity"), timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    # each lane's batch in flight may have been applied (bot/core/outbox_lanes.py)
    assert len(standin.applied_writes("Opportunity")) in {
        200 * n for n in range(1, min(WRITE_LANES, len(record_ids) // 200) + 1)
    }
    assert written_items(rt) == 0  # applied in Salesforce, not yet recorded: the worst moment
    standin.set_delay("composite", 0.0)
    second = worker_process(rt, standin, tmp_path)
    try:
        assert second.wait(timeout=60) == 0
    finally:
        second.kill()
    assert_written_exactly_once(rt, standin, record_ids)
    applied = Counter(write.id for write in standin.applied_writes("Opportunity"))
    records = standin.records("Opportunity")
    report(
        capsys,
        "400 updates, worker SIGKILLed after Salesforce applied a batch, then restarted",
        operations=standin.api_calls,
        kills=1,
        lost=sum(records[r]["StageName"] != NEW_STAGE for r in record_ids),
        duplicated=sum(n > 1 for n in applied.values()),
    )
