"""The agents in examples/ run against a live sandbox `airlock serve` and act on the verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core import decisions
from bot.core.runtime import Runtime
from models import Item
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.real_time


def first_item(rt: Runtime, deadline: float) -> str:
    """The id of the first item the example submits, once stored."""
    while time.monotonic() < deadline:
        with rt.db.read() as session:
            found = session.exec(select(Item.id)).first()
        if found:
            return str(found)
        time.sleep(0.05)
    raise AssertionError("the example submitted nothing")


def run_example(name: str, live: LiveServer, agent_key: str) -> subprocess.Popen[str]:
    env = os.environ | {
        "AIRLOCK_URL": live.url,
        "AIRLOCK_AGENT_KEY": agent_key,
        "AGENT_WAIT": "20",
        "PYTHONPATH": str(ROOT / "clients" / "python"),
        "NO_PROXY": "*",
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / name)], env=env, stdout=subprocess.PIPE, text=True
    )


def test_plain_agent_waits_for_the_human_and_reports_the_verdict(
    live: LiveServer, rt: Runtime, agent_key: str
) -> None:
    agent = run_example("plain_agent.py", live, agent_key)
    item_id = first_item(rt, time.monotonic() + 20)
    with rt.db.read() as session:
        stored = session.get(Item, item_id)
    assert stored is not None and stored.status == "pending"  # the agent is waiting on a person
    decisions.reject(rt, item_id, "U0ADMIN", "inaccurate")
    out, _ = agent.communicate(timeout=30)
    assert agent.returncode == 0
    said = json.loads(out.strip().splitlines()[-1])
    assert (said["id"], said["status"]) == (item_id, "rejected")
    assert said["decision"]["reason"] == "inaccurate"


def test_langgraph_agent_publishes_only_what_a_person_approved(
    live: LiveServer, rt: Runtime, agent_key: str
) -> None:
    agent = run_example("langgraph_agent.py", live, agent_key)
    item_id = first_item(rt, time.monotonic() + 30)
    decisions.approve(rt, item_id, "U0ADMIN")
    out, _ = agent.communicate(timeout=30)
    assert agent.returncode == 0
    said = json.loads(out.strip().splitlines()[-1])
    assert (said["item_id"], said["status"]) == (item_id, "approved")
    assert said["summary"] == "Decisions: legal review by Friday; pilot in Q3."  # the fake model's
    assert said["action"] == f"published the summary of {item_id}"
