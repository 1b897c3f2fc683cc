"""`airlock demo` runs the scripted scenario end to end, as a user would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIRLOCK = Path(sys.executable).with_name("airlock")


def test_run_demo_prints_transcript(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [str(AIRLOCK), "demo", "--workflows", str(ROOT / "workflows")],
        cwd=tmp_path,  # the demo must not touch the working directory
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert time.monotonic() - started < 60
    out = done.stdout
    expected = [
        "Maya       clicks [Approve] -> HTTP 200",
        "Salesforce updates Opportunity 006Ai0000000001IAA: StageName = 'Negotiation/Review'",
        "Salesforce Maya sets StageName = 'Proposal/Price Quote' on the record",
        "is reverted",
        "1 written and then reverted (undone, or changed back in Salesforce)",
        "Approved with edits by @Maya Chen",
        "Salesforce updates Opportunity 006Ai0000000003IAA: StageName = 'Proposal/Price Quote'",
        "Rejected by @Maya Chen",
        "Reason: already done: Sent it on Monday with the SOC 2 report",
        "sweep at +25h: escalated",
        "card in Sam Ortiz's DMs:",
        "Sam        clicks [Approve] -> HTTP 200",
        "Salesforce creates Task",
        "-> held (gate rep, level crm_write)",
        "1 held item(s) released in order",
        "Salesforce: conflict",
        "Next Step: not overwritten, Salesforce now has Legal signed; waiting for PO",
        "write-back conflict",
        "auto-pauses renewal-risk: 60% of the last 5 decisions were rejections (threshold 30%)",
        "DM to Olivia Park: 🚨 Auto-paused renewal-risk",
        '"Renewal risk #6" to renewal-risk -> held',
        "every chain intact",  # `airlock audit verify` over all the scenario did
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, out
    hygiene = re.search(r"^opp-hygiene\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)$", out, re.M)
    assert hygiene is not None, out
    assert hygiene.groups() == ("5", "4", "1", "0", "0", "100%")
    assert re.search(r"^call-summary-cleanup\s+1\s+0\s+0\s+1\s+0\s+0%$", out, re.M)
    assert re.search(r"^renewal-risk\s+6\s+2\s+0\s+3\s+0\s+40%$", out, re.M)
    held = re.search(r"^Airlock    (\d+) briefs sent, (\d+) held out \(never sent\)$", out, re.M)
    assert held is not None and int(held[1]) + int(held[2]) == 250, out
    assert "+14d: 250 outcomes read in 2 batched SOQL read(s)" in out
    lift = r"^  next_step_set: treated \d+% \(\d+/(\d+)\) vs holdout \d+% \(\d+/(\d+)\): lift"
    shown = re.search(lift, out, re.M)
    assert shown is not None and shown.groups() == held.groups(), out
    assert list(tmp_path.iterdir()) == []
