"""`/airlock stats` from the rollups agrees with a recount from the rows, on both databases."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlmodel import col, select

from bot.core import decisions
from bot.core.runtime import Runtime
from bot.reporting import queries
from models import Item
from tests import payloads
from tests.test_lifecycle import assign, post

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
REASONS = ["inaccurate", "wrong_record", "tone", "not_useful"]


def recount(rt: Runtime, workflow_id: str) -> queries.Stats:
    """The old way: load every item and count in Python."""
    with rt.db.read() as session:
        items = list(session.exec(select(Item).where(col(Item.workflow_id) == workflow_id)))
    by = Counter(i.status for i in items)
    waits = sorted(
        i.decided_at - i.created_at for i in items if i.decided_at and i.status in queries.DECIDED
    )
    reasons = Counter((i.decision or {}).get("reason") for i in items if i.status == "rejected")
    reasons.pop(None, None)
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], str(kv[0])))[:3]
    return queries.Stats(
        workflow_id,
        len(items),
        by["approved"],
        by["edited"],
        by["rejected"],
        by["expired"],
        by["pending"],
        waits[len(waits) // 2] if waits else None,
        [(str(r), n) for r, n in top],
        waits[len(waits) * 9 // 10] if waits else None,
    )


def close(got: timedelta | None, want: timedelta | None) -> bool:
    """Within the latency buckets' bound: 4.4% of the exact value (0.5 s under a second)."""
    if got is None or want is None:
        return got is want
    return abs(got - want) <= want * (2 ** (1 / 16) - 1) + timedelta(milliseconds=500)


def _fixed(moment: datetime) -> datetime:
    return moment


def test_stats_agree_with_recount_after_random_history(rt: Runtime, agent_key: str) -> None:
    assert queries.stats(rt, "opp-hygiene") == recount(rt, "opp-hygiene")  # empty
    rng = random.Random(20261128)
    for n in range(60):
        # Submitted at scattered times in the past, so the waits differ item by item.
        submitted = START + timedelta(hours=n * 7 + rng.random())
        rt.clock = partial(_fixed, submitted)
        item_id = post(rt, agent_key, payloads.field_update(idempotency_key=f"s{n}"))
        assign(rt, item_id, "U0MAYA")
        roll = rng.random()
        if roll < 0.4:
            decisions.approve(rt, item_id, "U0MAYA")
        elif roll < 0.8:
            decisions.reject(rt, item_id, "U0MAYA", rng.choice(REASONS))
    got, want = queries.stats(rt, "opp-hygiene"), recount(rt, "opp-hygiene")
    assert got.median_decision is not None and want.median_decision is not None
    assert close(got.median_decision, want.median_decision)
    assert close(got.p90_decision, want.p90_decision)
    same = {"median_decision": want.median_decision, "p90_decision": want.p90_decision}
    assert got.__class__(**{**got.__dict__, **same}) == want
    assert got.received == 60 and got.decided > 20
