"""`airlock export-evals` streams: keyset batches written as they are read, same output."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from bot.core import decisions
from bot.core.runtime import Runtime
from bot.reporting.evals_export import judged_batches, judged_count, write_evals
from bot.reporting.report import eval_records
from models import Item
from models.types import utcnow
from tests import payloads
from tests.test_lifecycle import assign, post

REP = "U0MAYA"
JUDGED = 23


def judge_many(rt: Runtime, agent_key: str) -> list[str]:
    """JUDGED decided items plus one still pending; some share a creation time (keyset ties)."""
    ids = []
    for n in range(JUDGED + 1):
        item_id = post(rt, agent_key, payloads.field_update(idempotency_key=f"e{n}"))
        assign(rt, item_id, REP)
        ids.append(item_id)
    for n, item_id in enumerate(ids[:JUDGED]):
        if n % 3 == 2:
            decisions.reject(rt, item_id, REP, "inaccurate", f"wrong {n}")
        else:
            decisions.approve(rt, item_id, REP)
    tied = utcnow() - timedelta(hours=1)
    with rt.db.write() as session:  # seven items created in the same instant
        session.execute(update(Item).where(col(Item.id).in_(ids[5:12])).values(created_at=tied))
    return ids


def test_export_in_small_batches_writes_what_the_whole_load_wrote(
    rt: Runtime, agent_key: str
) -> None:
    judge_many(rt, agent_key)
    whole = [json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in eval_records(rt)]
    out, steps = io.StringIO(), list[int]()

    count = write_evals(rt, out, size=4, progress=steps.append)

    lines = out.getvalue().splitlines(keepends=True)
    assert count == judged_count(rt) == JUDGED == len(lines)
    assert steps == [4, 4, 4, 4, 4, 3]  # six batches, never more than 4 rows in memory
    assert sorted(lines) == sorted(whole) and len(set(lines)) == JUDGED
    created = [json.loads(x)["id"] for x in lines]
    assert created == [i.id for b in judged_batches(rt, size=100) for i in b]


def test_batches_resume_after_the_last_key_without_skips(rt: Runtime, agent_key: str) -> None:
    ids = judge_many(rt, agent_key)
    batches = list(judged_batches(rt, "opp-hygiene", size=2))
    seen = [i.id for batch in batches for i in batch]
    assert sorted(seen) == sorted(ids[:JUDGED])
    keys = [(i.created_at, i.id) for batch in batches for i in batch]
    assert keys == sorted(keys)
    assert list(judged_batches(rt, "renewal-risk", size=2)) == []
