"""One poison row does not sink its batch: an item whose workflow YAML was removed fails alone,
is recorded `failed` and reported once; the healthy writes of the same batch are written once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.base.specs import load_specs
from bot.core.effects import WRITEBACK
from bot.core.outbox import OutboxWorker
from bot.core.outbox_giveup import GiveUp
from bot.core.runtime import Runtime
from bot.delivery.writeback import writeback_route
from bot.sandbox.salesforce_standin import SalesforceStandin
from tests import payloads
from tests.test_outbox_cli import owner_notices
from tests.writeback_support import approved, load, sf_client, update_body, write_row


def test_write_healthy_items_when_one_workflow_yaml_is_gone(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, workflows_dir: Path
) -> None:
    stage = [{"field": "StageName", "value": "Negotiation/Review"}]
    healthy = []
    for n in range(4):
        record_id = standin.add("Opportunity", {"Name": f"Deal {n}", "StageName": "Prospecting"})
        healthy.append((record_id, approved(rt, agent_key, update_body(record_id, stage))))
    orphan_record = standin.add("Opportunity", {"Name": "Orphan", "StageName": "Prospecting"})
    step = [{"field": "NextStep", "value": "Exec sponsor call"}]
    body = update_body(orphan_record, step, workflow="renewal-risk", sources=payloads.source(2))
    orphan = approved(rt, agent_key, body)
    (workflows_dir / "renewal-risk.yml").unlink()  # removed in a deploy
    rt.specs = load_specs(workflows_dir)

    client = sf_client(standin)
    worker = OutboxWorker(
        rt.db, {WRITEBACK: writeback_route(rt, client)}, backoff_base=0.0, on_give_up=GiveUp(rt)
    )
    worker.drain(max_rounds=40)
    client.close()

    applied = Counter(write.id for write in standin.applied_writes("Opportunity"))
    assert applied == Counter({record_id: 1 for record_id, _ in healthy})
    assert {load(rt, item).writeback_state for _, item in healthy} == {"written"}
    assert (load(rt, orphan).writeback_state, write_row(rt, orphan).status) == ("failed", "dead")
    assert "renewal-risk" in (load(rt, orphan).writeback or {})["error"]
    assert len(owner_notices(rt)) == 1
