"""Approve-click ack latency at 50 concurrent requests: Airlock vs a bare Bolt app that only acks.

    .venv/bin/python bench/ack.py [--clicks 1000] [--concurrency 50]

Both run as uvicorn processes behind the same /slack/events endpoint (signature check, Bolt
dispatch in a thread pool). Airlock's clicks are real decisions (compare-and-set, audit event,
outbox rows) by an admin on distinct pending items. Goal: p50 and p99 <= 1.5x the bare app.
Airlock's line is followed by when every decision was recorded: the acks come first, and a
click's work waits its turn after its ack (handlers/slack_reply.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import start_server, wait_count, wait_idle  # noqa: E402
from bench.intake import create_key  # noqa: E402
from bot.sandbox.boot import seed_slack_users  # noqa: E402
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SalesforceStandin  # noqa: E402
from bot.sandbox.slack_payloads import block_action  # noqa: E402
from bot.sandbox.slack_signing import FORM_CONTENT_TYPE, form_body, sign  # noqa: E402
from bot.sandbox.slack_standin import SlackStandin  # noqa: E402
from bot.slack.ids import Action  # noqa: E402
from tests import payloads  # noqa: E402

SECRET = "bench-signing-secret"
ADMIN = "U0OLIVIA"


def submit_items(base: str, key: str, records: list[str]) -> list[str]:
    """Pending items for the admin to approve, one stage change per opportunity (as a team's
    cards are: one click per deal, not a thousand on the same record)."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, trust_env=False, timeout=30) as http:
        return [
            http.post(
                "/api/v1/items",
                json=payloads.field_update(
                    record={"sobject": "Opportunity", "id": record_id},
                    idempotency_key=f"a{n}",
                ),
            ).json()["id"]
            for n, record_id in enumerate(records)
        ]


def opportunities(salesforce: SalesforceStandin, count: int) -> list[str]:
    """`count` opportunities at the stage the sample change expects to find."""
    stage = payloads.field_update()["changes"][0]["observed"]
    return [
        salesforce.add("Opportunity", {"Name": f"Bench deal {n}", "StageName": stage})
        for n in range(count)
    ]


async def clicks(base: str, item_ids: list[str], concurrency: int) -> list[float]:
    """Send one signed Approve per item, `concurrency` at a time; returns latencies (s)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for item_id in item_ids:
        queue.put_nowait(item_id)
    latencies: list[float] = []

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            item_id = queue.get_nowait()
            body = form_body(
                block_action(ADMIN, Action.APPROVE, item_id, channel="D0OLIVIA", ts="1.000001")
            )
            started = time.perf_counter()
            response = await http.post(
                "/slack/events",
                content=body,
                headers=sign(SECRET, body, content_type=FORM_CONTENT_TYPE),
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"click answered {response.status_code}: {response.text}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30, limits=limits) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return latencies


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(latencies)
    return (ordered[len(ordered) // 2] * 1000, ordered[int(len(ordered) * 0.99)] * 1000)


def decided(kind: str, url: str, count: int) -> None:
    """Wait until `count` items are approved (the bare app decides nothing)."""
    if kind == "airlock":
        approved = "SELECT count(*) FROM item WHERE status = 'approved'"
        wait_count(url, approved, count, f"the {count} approvals to be recorded")


def measure(
    kind: str, url: str, stand_ins: dict[str, str], key: str, records: list[str], concurrency: int
) -> tuple[float, float]:
    """p50/p99 of one server under the click load."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "AIRLOCK_ADMINS": ADMIN,
        **stand_ins,
    }
    proc, base = start_server(kind, url, env)
    try:
        n = len(records)
        ids = (
            submit_items(base, key, records)
            if kind == "airlock"
            else [f"itm_{i}" for i in range(n)]
        )
        # Clicks come after the cards are out: the intake's card posts are not part of the ack.
        wait_idle(url)
        asyncio.run(clicks(base, ids[:concurrency], concurrency))  # warm-up
        # The acks come first, the decisions after them: the warm-up's are done before timing.
        decided(kind, url, concurrency)
        wait_idle(url)
        started = time.perf_counter()
        p50, p99 = percentiles(asyncio.run(clicks(base, ids[concurrency:], concurrency)))
        print(
            f"{kind:<8} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   ({n - concurrency} clicks, "
            f"{concurrency} concurrent)"
        )
        if kind == "airlock":
            decided(kind, url, n)
            print(
                f"         every decision recorded {time.perf_counter() - started:.1f} s "
                "after the first measured click"
            )
        return p50, p99
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    """Run both and print the ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SlackStandin(users=seed_slack_users()) as slack,
        SalesforceStandin() as salesforce,
    ):
        url = f"sqlite:///{tmp}/ack.db"
        key = create_key(url)
        stand_ins = {
            "SLACK_API_URL": slack.base_url,
            "SALESFORCE_INSTANCE_URL": salesforce.instance_url,
            "SALESFORCE_ACCESS_TOKEN": DEFAULT_TOKEN,
        }
        records = opportunities(salesforce, args.clicks)
        bare = measure("bolt", url, stand_ins, key, records, args.concurrency)
        ours = measure("airlock", url, stand_ins, key, records, args.concurrency)
    print(f"ratio    p50 {ours[0] / bare[0]:.2f}x   p99 {ours[1] / bare[1]:.2f}x   (goal <= 1.5x)")


if __name__ == "__main__":
    main()
