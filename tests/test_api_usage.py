"""The org's daily API allowance (Sforce-Limit-Info): write-backs wait above the ceiling without
using up retries, resume when usage falls, and usage shows in /metrics and `airlock report`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import requests

from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.delivery.writeback import writeback_route
from bot.salesforce.client import SalesforceClient
from bot.salesforce.transport import LimitInfo, limit_info
from bot.salesforce.usage import usage_text
from bot.sandbox.live import LiveServer
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SalesforceStandin
from bot.service import Service
from tests.writeback_support import (
    approved,
    load,
    patches,
    record,
    settle,
    update_body,
    write_row,
)

OPP = make_id("Opportunity", 1)
STAGE: list[dict[str, Any]] = [
    {"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"}
]


def worker(rt: Runtime, client: SalesforceClient, recheck: float) -> OutboxWorker:
    route = writeback_route(rt, client, usage_recheck=recheck)
    return OutboxWorker(rt.db, {"salesforce.write": route}, backoff_base=0.05)


def test_parse_limit_info_header() -> None:
    response = requests.Response()
    response.headers["Sforce-Limit-Info"] = "api-usage=25/5000; per-app-api-usage=17/250(appName=x)"
    info = limit_info(response)
    assert info == LimitInfo(25, 5000) and info.share == 0.005
    assert limit_info(requests.Response()) is None


def test_write_waits_above_ceiling_then_resumes(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    client: SalesforceClient,
) -> None:
    standin.api_limit, standin.api_used_elsewhere = 1000, 950  # 95% used by other integrations
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    client.get_user(make_id("User", 4))  # any call: Airlock now knows the org's usage
    slow = worker(rt, client, recheck=3600)
    assert slow.run_once() == 0  # nothing claimed, so no retry is spent
    row = write_row(rt, item_id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert patches(standin) == [] and load(rt, item_id).writeback_state == "queued"
    standin.api_used_elsewhere = 100  # the 24-hour window moved on
    assert slow.run_once() == 0  # the usage seen is still recent: no new call yet
    assert standin.calls_matching("GET", "/limits") == []
    settle(rt, worker(rt, client, recheck=0))  # due for a re-check: one limits call, then writes
    assert len(standin.calls_matching("GET", "/limits")) == 1
    assert record(standin, OPP)["StageName"] == "Negotiation/Review"
    assert write_row(rt, item_id).attempts == 1


def test_write_goes_on_below_ceiling(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.api_limit, standin.api_used_elsewhere = 1000, 800  # 80%: under the 90% default
    client.get_user(make_id("User", 4))
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    settle(rt, worker(rt, client, recheck=3600))
    assert load(rt, item_id).writeback_state == "written"
    assert standin.calls_matching("GET", "/limits") == []


def test_read_api_usage_from_limits(standin: SalesforceStandin, client: SalesforceClient) -> None:
    standin.api_limit, standin.api_used_elsewhere = 5000, 1200
    info = client.api_usage()
    assert info == LimitInfo(1201, 5000)  # this very call counts too
    assert client.last_limit_info == info
    assert usage_text(info, 0.9) == (
        "Salesforce API requests in the last 24 h: 1,201 of 5,000 (24%); write-backs wait above 90%"
    )
    over = usage_text(LimitInfo(4600, 5000), 0.9)
    assert over.endswith("(92%); over the 90% ceiling, so write-backs wait")


def test_metrics_show_api_usage(service: Service, live: LiveServer) -> None:
    salesforce = service.integrations.salesforce
    with httpx.Client(base_url=live.url, trust_env=False, timeout=10) as http:
        salesforce.get_user(make_id("User", 4))
        first = salesforce.last_limit_info
        assert first is not None
        before = http.get("/metrics").text
        salesforce.get_user(make_id("User", 5))
        seen = salesforce.last_limit_info
        assert seen is not None and seen.used > first.used
        after = http.get("/metrics").text
    assert f'airlock_salesforce_api_requests{{key="used"}} {float(first.used)}' in before
    assert f'airlock_salesforce_api_requests{{key="used"}} {float(seen.used)}' in after
    assert f'airlock_salesforce_api_requests{{key="limit"}} {float(seen.total)}' in after


def test_report_shows_api_usage(rt: Runtime, standin: SalesforceStandin, tmp_path: Path) -> None:
    standin.api_limit, standin.api_used_elsewhere = 2000, 1900
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    env |= {
        "DATABASE_URL": rt.settings.database_url,
        "AIRLOCK_WORKFLOWS": str(rt.settings.workflows_dir),
    }
    env |= {
        "SALESFORCE_INSTANCE_URL": standin.instance_url,
        "SALESFORCE_ACCESS_TOKEN": DEFAULT_TOKEN,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "report"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (
        "Salesforce API requests in the last 24 h: 1,901 of 2,000 (95%); "
        "over the 90% ceiling, so write-backs wait"
    ) in done.stdout
    sandbox = subprocess.run(
        [sys.executable, "-m", "bot", "report"],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if not k.startswith("SALESFORCE_")},
        cwd=tmp_path,
        timeout=60,
    )
    assert "Salesforce API requests: no org configured" in sandbox.stdout
