"""Values checked at intake: non-finite numbers, and values against the org's field metadata."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.core.runtime import Runtime
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
