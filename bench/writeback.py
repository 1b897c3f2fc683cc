"""Salesforce API calls and wall time for 1,000 confirmed updates, in one run against the stand-in:
the write-back route (from approval to `written` on every item) versus the network floor (the same
SOQL read and collections PATCH per wave of 200, plus one database transaction per wave recording
the 200 results) and versus naive per-record writes (one GET + one PATCH each).

    .venv/bin/python bench/writeback.py [--count 1000] [--latency-ms 0] [--database-url URL]

`--latency-ms` holds every stand-in answer that long, as a real org's round trip would.
Goal: the route within 1.5x of the floor, with <= 10 calls for the 1,000.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, update  # noqa: E402

from bot.base.config import Settings  # noqa: E402
from bot.core import keys  # noqa: E402
from bot.core.runtime import Runtime, open_runtime  # noqa: E402
from bot.salesforce.client import COMPOSITE_LIMIT, SalesforceClient  # noqa: E402
from bot.salesforce.values import same  # noqa: E402
from bot.sandbox.salesforce_standin import SalesforceStandin  # noqa: E402
from models import Item  # noqa: E402
from tests.writeback_support import (  # noqa: E402
    approved,
    settle,
    sf_client,
    update_body,
    write_worker,
)

OLD, NEW = "Prospecting", "Qualification"


def confirmed_items(rt: Runtime, standin: SalesforceStandin, count: int) -> list[str]:
    """`count` opportunities, each with an approved stage change queued for write-back."""
    with rt.db.write() as session:
        _row, agent_key = keys.create_key(session, agent="bench", workflows=["*"])
    record_ids = [
        standin.add("Opportunity", {"Name": f"Bench deal {n}", "StageName": OLD})
        for n in range(count)
    ]
    change = [{"field": "StageName", "value": NEW, "observed": OLD}]
    for record_id in record_ids:
        approved(rt, agent_key, update_body(record_id, change))
    return record_ids


def batched(rt: Runtime, client: SalesforceClient) -> tuple[int, float]:
    """Calls and seconds for the outbox worker to deliver every queued write."""
    before, began = client.api_calls, time.monotonic()
    settle(rt, write_worker(rt, client), timeout=600)
    return client.api_calls - before, time.monotonic() - began


def floor(rt: Runtime, client: SalesforceClient, record_ids: list[str]) -> tuple[int, float]:
    """Calls and seconds for the least the route must do: per wave of 200 records one SOQL read,
    one collections PATCH and one transaction writing a result on 200 rows."""
    with rt.db.read() as session:
        item_ids = list(session.exec(select_item_ids()))
    stmt = (
        update(Item.__table__)  # type: ignore[attr-defined]
        .where(Item.__table__.c.id == bindparam("_id"))  # type: ignore[attr-defined]
        .values(writeback_state="written", writeback=bindparam("_result"))
    )
    before, began = client.api_calls, time.monotonic()
    for start in range(0, len(record_ids), COMPOSITE_LIMIT):
        wave = record_ids[start : start + COMPOSITE_LIMIT]
        current = client.read_fields("Opportunity", wave, ["StageName"])
        client.update_records(
            "Opportunity", [{"Id": r, "StageName": NEW} for r in wave if r in current]
        )
        rows = [{"_id": i, "_result": {"state": "written"}} for i in item_ids[: len(wave)]]
        with rt.db.write() as session:
            session.execute(stmt, rows)
    return client.api_calls - before, time.monotonic() - began


def select_item_ids() -> Any:
    """Item ids to stamp in the floor's transactions (their values do not matter)."""
    from sqlmodel import col, select

    return select(Item.id).order_by(col(Item.id)).limit(COMPOSITE_LIMIT)


def naive(client: SalesforceClient, record_ids: list[str]) -> tuple[int, float]:
    """Calls and seconds for read-compare-write, one record at a time."""
    before, began = client.api_calls, time.monotonic()
    for record_id in record_ids:
        current = client.read_fields("Opportunity", [record_id], ["StageName"])[record_id]
        if same(current["StageName"], OLD):
            client.update_records("Opportunity", [{"Id": record_id, "StageName": NEW}])
    return client.api_calls - before, time.monotonic() - began


def main() -> None:
    """Run both and print calls, time and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SalesforceStandin() as standin:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        settings = Settings(_env_file=None, DATABASE_URL=url, AIRLOCK_WORKFLOWS=ROOT / "workflows")
        rt = open_runtime(settings)
        print(f"preparing {args.count} confirmed updates ({rt.db.dialect}) ...", flush=True)
        batch_ids = confirmed_items(rt, standin, args.count)
        naive_ids = [
            standin.add("Opportunity", {"Name": f"Naive deal {n}", "StageName": OLD})
            for n in range(args.count)
        ]
        floor_ids = [
            standin.add("Opportunity", {"Name": f"Floor deal {n}", "StageName": OLD})
            for n in range(args.count)
        ]
        standin.set_delay("*", args.latency_ms / 1000)
        client = sf_client(standin, timeout=30.0)
        calls, seconds = batched(rt, client)
        print(f"batched: {calls} calls, {seconds:.2f} s")
        floor_calls, floor_seconds = floor(rt, client, floor_ids)
        print(f"floor:   {floor_calls} calls, {floor_seconds:.2f} s")
        naive_calls, naive_seconds = naive(client, naive_ids)
        print(f"naive:   {naive_calls} calls, {naive_seconds:.2f} s")
        print(f"ratio:   {seconds / floor_seconds:.2f}x the floor (goal <= 1.5x)")
        faster = naive_seconds / seconds
        print(
            f"         {naive_calls / calls:.0f}x fewer calls, {faster:.1f}x less time than naive"
        )
        written = standin.records("Opportunity")
        if {written[r]["StageName"] for r in batch_ids + naive_ids + floor_ids} != {NEW}:
            raise SystemExit("not every update was written")
        if calls > 10:
            raise SystemExit(f"goal missed: {calls} calls for {args.count} updates (goal <= 10)")
        client.close()
        rt.db.dispose()


if __name__ == "__main__":
    main()
