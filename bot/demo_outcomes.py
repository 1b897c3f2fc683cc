"""The outcome step of `airlock demo`: a measured workflow with a 10% holdout, Salesforce moving
during the window, and the lift report (`airlock outcomes`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.delivery import outcome_reads
from bot.demo_driver import DemoDriver, DemoError
from bot.reporting.outcomes import render_outcomes, workflow_outcomes
from bot.sandbox.samples import brief, opportunity
from models import Item

WORKFLOW_ID = "deal-briefs"
DEALS = 250
WINDOW = timedelta(days=14)
WORKFLOW = f"""\
# Demo only: pre-call briefs on open deals; does a brief get the deal moving?
id: {WORKFLOW_ID}
name: Pre-call deal briefs
owner: U0OLIVIA
trigger: before each scheduled call
inputs: [Salesforce Opportunity, call transcripts]
task: Brief the rep on the deal before the call
level: read_only
allowed_outputs: {{kinds: [brief]}}
outcome:
  window: 14d
  holdout: 0.1
  metrics:
    - {{name: next_step_set, field: Opportunity.NextStep, not_empty: true}}
    - {{name: stage_advanced, field: Opportunity.StageName, changed: true}}
segment_by: Account.Industry
failure_modes: [stale deal data]
success_metric: deals with a next step two weeks later
"""


def with_outcome_workflow(folder: Path, workflows: Path) -> Path:
    """A copy of the workflows folder with the demo's measured workflow added."""
    target = folder / "workflows"
    shutil.copytree(workflows, target)
    (target / f"{WORKFLOW_ID}.yml").write_text(WORKFLOW, encoding="utf-8")
    return target


def show_outcomes(d: DemoDriver, heading: Callable[[str], None]) -> None:
    """Brief 250 new deals, let Salesforce move some in 14 days, and report the lift."""
    heading("Outcomes: 250 briefs, 10% of the deals held out, read again 14 days later")
    accounts = sorted(d.org.records("Account"))
    fields = {"StageName": "Prospecting", "CloseDate": "2027-06-30", "NextStep": None}
    deals = [
        d.org.add("Opportunity", {"Name": f"Deal {n}", "AccountId": accounts[n % 5], **fields})
        for n in range(DEALS)
    ]
    ids = [_submit(d, n, record_id) for n, record_id in enumerate(deals)]
    start = d.rt.clock()
    outcome_reads.sweep(d.rt, d.service.integrations.salesforce, start)
    items = d.wait(lambda: _all_read(d, ids), "the arrival reads")
    held = [i for i in items if i.status == "held_out"]
    d.say("Airlock", f"{len(items) - len(held)} briefs sent, {len(held)} held out (never sent)")
    # What the reps did in 14 days: briefed deals get a next step more often.
    for n, item in enumerate(items):
        every = (2, 3) if item.status != "held_out" else (4, 6)
        if n % every[0] == 0:
            d.org.set_field("Opportunity", str(item.record_id), "NextStep", "Call booked")
        if n % every[1] == 0:
            d.org.set_field("Opportunity", str(item.record_id), "StageName", "Qualification")
    read = outcome_reads.sweep(d.rt, d.service.integrations.salesforce, start + WINDOW)
    reads = f"{read.queries} batched SOQL read(s)"
    d.say("Airlock", f"+14d: {len(read.outcomes)} outcomes read in {reads}")
    d.out(render_outcomes(workflow_outcomes(d.rt, WORKFLOW_ID)))


def _submit(d: DemoDriver, n: int, record_id: str) -> str:
    body = brief(workflow=WORKFLOW_ID, title=f"Brief: Deal {n}", record=opportunity(record_id))
    response = d.agent.post("/api/v1/items", json=body, headers={"Idempotency-Key": f"brief-{n}"})
    if response.status_code != 201:
        raise DemoError(f"intake answered {response.status_code}: {response.text}")
    return str(response.json()["id"])


def _all_read(d: DemoDriver, ids: list[str]) -> list[Item] | None:
    items = [d.item(item_id) for item_id in ids]
    return items if all(i.outcome is not None for i in items) else None
