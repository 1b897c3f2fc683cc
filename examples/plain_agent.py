"""A plain-Python agent: summarise a call, hand it to Airlock, act on the human's verdict.

    AIRLOCK_URL=http://127.0.0.1:3000 AIRLOCK_AGENT_KEY=alk_... python examples/plain_agent.py

Prints one JSON line: the item id, its verdict and the decision; exits 0 once decided.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from airlock_client import AirlockClient


def summarise(transcript: str) -> dict[str, Any]:
    """The agent's own work (here a fixed rule, where a real agent would call its model)."""
    decisions = [line for line in transcript.splitlines() if line.startswith("Decision:")]
    return {
        "summary": " ".join(decisions) or "No decisions.",
        "reasons": ["taken from the call transcript"],
        "confidence": 0.8,
        "sources": [{"title": "Gong call", "url": "https://gong.example/calls/1"}],
    }


def main() -> int:
    transcript = "Intro.\nDecision: legal review by Friday.\nDecision: pilot in Q3."
    with AirlockClient(os.environ.get("AIRLOCK_URL", "http://127.0.0.1:3000")) as airlock:
        item = airlock.submit(
            "call-summary-cleanup", "summary", "Acme call", **summarise(transcript)
        )
        verdict = airlock.wait(item.id, timeout=float(os.environ.get("AGENT_WAIT", "600")))
    print(json.dumps({"id": item.id, "status": verdict.status, "decision": verdict.decision}))
    return 0 if verdict.decided else 1


if __name__ == "__main__":
    sys.exit(main())
