"""Sweep cost follows due items, not the backlog: 100 due among 1,000 vs among 100,000 pending.

    .venv/bin/python bench/sweep.py [--postgres SERVER_URL]

Both backlogs are built in one run on the same database engine; each sweep advances the same 100
due items (their expiry step). Goal: sweep(100,000) <= 2x sweep(1,000).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import SQLModel  # noqa: E402

from bench._seed import ITEM_BASE  # noqa: E402
from bench.common import scratch_database  # noqa: E402
from bot.base.config import Settings  # noqa: E402
from bot.core.lifecycle import new_item_id  # noqa: E402
from bot.core.runtime import open_runtime  # noqa: E402
from bot.delivery import timers  # noqa: E402
from models.types import utcnow  # noqa: E402

DUE = 100


class StaticPeople:
    """Time zones without Slack, so the sweep's own cost is what is measured."""

    def timezone_of(self, slack_user_id: str, *, cached_only: bool = False) -> str:
        return "UTC"

    def reviewer_for(self, item: object, owner: str) -> object:
        raise AssertionError("sweeps never route")

    def resolve_owner(self, owner: str) -> str:
        return owner


def fill(settings: Settings, pending: int) -> float:
    """A fresh database with `pending` waiting items, DUE of them due now; returns sweep time."""
    rt = open_runtime(settings)
    now = utcnow()
    items = SQLModel.metadata.tables["item"]
    template = {
        "workflow_id": "opp-hygiene",
        "workflow_version": rt.spec("opp-hygiene").version,
        **ITEM_BASE,
        "agent": "bench",
        "status": "pending",
        "authority": "advisory",
        "writeback_state": "none",
        "escalated": True,
        # Escalated three days ago with nobody above the reviewer: expiry counts from then
        # (bot/base/deadlines.py), so the due items' step is their expiry.
        "escalated_at": now - timedelta(days=3),
        "audit_seq": 0,
        "reminded_at": now - timedelta(days=3),
        "pending_since": now - timedelta(days=4),
        "created_at": now,
        "updated_at": now,
    }
    batch = []
    for n in range(pending):
        due = n < DUE
        batch.append(
            template
            | {
                "id": new_item_id(),
                "idempotency_key": f"b{n}",
                "next_due_at": now - timedelta(seconds=1) if due else now + timedelta(days=30),
            }
        )
        if len(batch) == 5000 or n == pending - 1:
            with rt.db.write() as session:
                session.execute(items.insert(), batch)
            batch = []
    started = time.perf_counter()
    report = timers.sweep(rt, StaticPeople(), now)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert len(report.expired) == DUE, report
    rt.db.dispose()
    return elapsed


def main() -> None:
    """Measure both backlogs and print the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--postgres",
        default="",
        help="a server URL, e.g. postgresql+psycopg://postgres@127.0.0.1/postgres;"
        " a scratch database is created on it and dropped after",
    )
    args = parser.parse_args()
    results = {}
    for pending in (1_000, 100_000):
        with (
            tempfile.TemporaryDirectory() as tmp,
            scratch_database(args.postgres, tmp, "sweep") as url,
        ):
            settings = Settings(
                _env_file=None, DATABASE_URL=url, AIRLOCK_WORKFLOWS=ROOT / "workflows"
            )
            results[pending] = fill(settings, pending)
            print(f"{pending:>7} pending, {DUE} due: sweep {results[pending] * 1000:7.1f} ms")
    ratio = results[100_000] / results[1_000]
    print(f"ratio   {ratio:.2f}x (goal <= 2x: cost follows due items, not the backlog)")


if __name__ == "__main__":
    main()
