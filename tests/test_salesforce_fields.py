"""Field metadata from describe(): the cache, spec checks, values at intake, numbers at scale."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.errors import InvalidInput
from bot.intake import submit
from bot.outbox import OutboxWorker
from bot.runtime import Runtime
from bot.salesforce import SalesforceClient
from bot.salesforce_fields import FieldCatalog, spec_problems
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.spec_model import WorkflowSpec
from tests.writeback_support import (
    approved,
    load,
    outcome,
    record,
    settle,
    sf_client,
    update_body,
    write_worker,
)

OPP = make_id("Opportunity", 1)  # seeded: Amount 84000


@pytest.fixture
def standin() -> Iterator[SalesforceStandin]:
    with SalesforceStandin() as running:
        yield running


@pytest.fixture
def client(standin: SalesforceStandin) -> Iterator[SalesforceClient]:
    sf = sf_client(standin)
    yield sf
    sf.close()


def described(rt: Runtime, client: SalesforceClient) -> FieldCatalog:
    """The runtime's cache, filled from the stand-in as the ticker fills it."""
    rt.fields.client = client
    assert rt.fields.refresh(["Opportunity", "Task"]) == {}
    return rt.fields


def test_own_rounded_write_is_not_a_conflict_on_retry(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    described(rt, client)
    amount = {"field": "Amount", "value": 91234.567, "observed": 84000}
    item_id = approved(rt, agent_key, update_body(OPP, [amount]))
    # The first attempt was applied and its answer lost: the org holds the value at its scale.
    standin.set_field("Opportunity", OPP, "Amount", 91234.57)
    settle(rt, write_worker(rt, client))
    assert load(rt, item_id).writeback_state == "written"
    (result,) = outcome(rt, item_id)["results"]
    assert result["state"] == "written" and result["message"] == "already had this value"
    assert record(standin, OPP)["Amount"] == 91234.57
