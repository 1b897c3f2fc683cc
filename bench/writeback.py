"""Salesforce API calls and wall time for 1,000 confirmed updates: the write-back route versus
naive per-record writes (one GET + one PATCH each), in one run against the stand-in.

    .venv/bin/python bench/writeback.py [--count 1000] [--latency-ms 0] [--database-url URL]

`--latency-ms` holds every stand-in answer that long, as a real org's round trip would.
The batched time includes the route's database work (recording every item's result).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.base.config import Settings  # noqa: E402
from bot.core import keys  # noqa: E402
from bot.core.runtime import Runtime, open_runtime  # noqa: E402
from bot.salesforce.client import SalesforceClient  # noqa: E402
from bot.salesforce.values import same  # noqa: E402
from bot.sandbox.salesforce_standin import SalesforceStandin  # noqa: E402
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
        standin.set_delay("*", args.latency_ms / 1000)
        client = sf_client(standin, timeout=30.0)
        calls, seconds = batched(rt, client)
        print(f"batched: {calls} calls, {seconds:.2f} s")
        naive_calls, naive_seconds = naive(client, naive_ids)
        print(f"naive:   {naive_calls} calls, {naive_seconds:.2f} s")
        faster = naive_seconds / seconds
        print(f"ratio:   {naive_calls / calls:.0f}x fewer calls, {faster:.1f}x less time")
        written = standin.records("Opportunity")
        if {written[r]["StageName"] for r in batch_ids + naive_ids} != {NEW}:
            raise SystemExit("not every update was written")
        if calls > 10:
            raise SystemExit(f"goal missed: {calls} calls for {args.count} updates (goal <= 10)")
        client.close()
        rt.db.dispose()


if __name__ == "__main__":
    main()
