"""Values checked at intake: non-finite numbers, and values against the org's field metadata."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest

from bot.base.errors import InvalidInput
from bot.base.submission import Submission
from bot.core import intake
from bot.core.checks import CheckResult
from bot.core.intake_item import Vetted
from bot.core.runtime import Runtime
from models import Item
from tests import payloads
from tests.test_intake_api import assert_problem, item_count


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("where", ["value", "observed"])
def test_refuse_non_finite_change_value(
    api: httpx.Client, rt: Runtime, token: str, where: str
) -> None:
    body = payloads.field_update()
    body["changes"] = [{"field": "Amount", "value": 1000, "observed": 900}]
    raw = json.dumps(body).replace(
        f'"{where}": {1000 if where == "value" else 900}', f'"{where}": {token}'
    )
    assert token in raw
    response = api.post("/api/v1/items", content=raw)
    problem = assert_problem(response, 422, f"changes.0.{where}")
    assert "finite" in problem["detail"]
    assert item_count(rt) == 0


def test_refuse_non_finite_confidence(api: httpx.Client, rt: Runtime) -> None:
    body = payloads.field_update()
    body["confidence"] = 0.5
    raw = json.dumps(body).replace('"confidence": 0.5', '"confidence": NaN')
    response = api.post("/api/v1/items", content=raw)
    assert_problem(response, 422, "confidence")
    assert item_count(rt) == 0


def test_checks_run_before_the_write_follow_a_reload_in_between(
    rt: Runtime, agent_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake runs the quality checks before its write transaction (they need no database). If
    the specs were reloaded in between, the item gets the checks of the spec that classified it,
    not of the one before."""
    early = intake._vet_early

    def before_a_reload(rt_: Runtime, sub: Submission) -> Vetted | None:
        vetted = early(rt_, sub)
        assert vetted is not None
        stale = CheckResult("banned_terms", False, "block", "found: stale")
        return replace(vetted, checks=[stale], loaded=replace(vetted.loaded))

    monkeypatch.setattr(intake, "_vet_early", before_a_reload)
    raw = json.dumps(payloads.field_update()).encode()
    result = intake.submit(rt, token=agent_key, raw=raw, header_key=None)
    assert result.status_code == 201 and result.body["status"] != "blocked"
    with rt.db.read() as session:
        item = session.get(Item, result.body["id"])
    assert item is not None
    assert "stale" not in json.dumps(item.checks)
    assert {c["name"] for c in item.checks} >= {"required"}


BAD_SUFFIX = {"sobject": "Opportunity", "id": "006000000000001999"}


def test_an_id_whose_case_suffix_salesforce_cannot_read_is_422(rt: Runtime, agent_key: str) -> None:
    """The last three characters of an 18-character id encode its case in letters and 0-5: an
    id ending in 6-9 is no Salesforce id. Without a Salesforce org to ask, it passed the schema
    and failed with a 500 (an unknown key then got the 500 too, before its 401)."""
    body = payloads.field_update(record=BAD_SUFFIX)
    assert rt.records.client is None  # no org: nothing refused the id before
    with pytest.raises(InvalidInput) as refused:
        intake.submit(rt, token=agent_key, raw=json.dumps(body).encode(), header_key=None)
    assert [e["field"] for e in refused.value.extra["errors"]] == ["record.id"]
    assert item_count(rt) == 0


def test_an_id_whose_case_suffix_salesforce_cannot_read_is_422_over_http(
    api: httpx.Client, rt: Runtime
) -> None:
    response = api.post("/api/v1/items", json=payloads.field_update(record=BAD_SUFFIX))
    problem = assert_problem(response, 422, "")
    assert [e["field"] for e in problem["errors"]] == ["record.id"]
    assert item_count(rt) == 0
