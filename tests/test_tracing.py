"""OpenTelemetry: spans for intake, the human's decision and the write, in the agent's trace."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot.base import tracing
from bot.base.config import ConfigError
from bot.core import decisions, lifecycle
from bot.core.intake import submit
from bot.core.runtime import Runtime
from bot.salesforce.client import SalesforceClient
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from tests.writeback_support import REVIEWER, load, settle, sf_client, update_body, write_worker

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
AGENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{AGENT_SPAN}-01"
OPP = make_id("Opportunity", 1)
STAGE = [{"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"}]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    yield exporter
    tracing.use(None)


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


def intake(rt: Runtime, agent_key: str, traceparent: str | None) -> str:
    body = json.dumps(update_body(OPP, STAGE)).encode()
    result = submit(rt, token=agent_key, raw=body, header_key=None, traceparent=traceparent)
    item_id = str(result.body["id"])
    with rt.db.write() as session:  # routed to the reviewer, as posting the card would
        lifecycle.update_item(
            session, item_id, actor="system", event="assigned", data={}, assignee=REVIEWER
        )
    return item_id


def in_agent_trace(span: ReadableSpan) -> None:
    assert span.parent is not None, span.name
    assert f"{span.parent.trace_id:032x}" == TRACE
    assert f"{span.parent.span_id:016x}" == AGENT_SPAN


def test_intake_decision_and_write_join_the_agent_trace(
    rt: Runtime, agent_key: str, spans: InMemorySpanExporter
) -> None:
    item_id = intake(rt, agent_key, TRACEPARENT)
    assert load(rt, item_id).traceparent == TRACEPARENT
    decisions.approve(rt, item_id, REVIEWER)
    with SalesforceStandin() as standin:
        client: SalesforceClient = sf_client(standin)
        settle(rt, write_worker(rt, client))
        client.close()
    (received,) = named(spans, "airlock.intake")
    in_agent_trace(received)
    assert received.attributes is not None
    assert received.attributes["airlock.item_id"] == item_id
    assert received.attributes["airlock.gate"] == "rep"
    (approval,) = named(spans, "airlock.approval")
    in_agent_trace(approval)
    assert approval.attributes is not None
    assert approval.attributes["airlock.approver"] == REVIEWER
    assert approval.attributes["airlock.decision"] == "approved"
    assert float(approval.attributes["airlock.wait_seconds"]) >= 0  # type: ignore[arg-type]
    assert approval.start_time is not None and received.start_time is not None
    assert approval.start_time <= received.end_time  # type: ignore[operator]
    (write,) = named(spans, "airlock.write")
    in_agent_trace(write)
    assert write.attributes is not None and write.attributes["airlock.result"] == "written"
    (batch,) = named(spans, "airlock.writeback.batch")
    assert batch.parent is None
    assert [link.context.span_id for link in write.links] == [batch.context.span_id]


@pytest.mark.parametrize(
    "sent", [None, "garbage", f"ff-{TRACE}-{AGENT_SPAN}-01", f"00-{'0' * 32}-{AGENT_SPAN}-01"]
)
def test_without_a_valid_traceparent_intake_starts_its_own_trace(
    rt: Runtime, agent_key: str, spans: InMemorySpanExporter, sent: str | None
) -> None:
    item_id = intake(rt, agent_key, sent)
    assert load(rt, item_id).traceparent is None
    (received,) = named(spans, "airlock.intake")
    assert received.parent is None


def test_off_by_default_and_by_the_standard_switches(rt: Runtime, agent_key: str) -> None:
    assert not tracing.configure({})
    assert not tracing.configure({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"})
    assert not tracing.configure({"OTEL_TRACES_EXPORTER": "none"})
    assert not tracing.on()
    item_id = intake(rt, agent_key, TRACEPARENT)  # stored even when off: turning tracing on later
    assert load(rt, item_id).traceparent == TRACEPARENT  # keeps waiting items in their traces
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER='zipkin'"):
        tracing.configure({"OTEL_TRACES_EXPORTER": "zipkin"})
    try:
        assert tracing.configure({"OTEL_TRACES_EXPORTER": "console"})
        assert tracing.on()
    finally:
        tracing.use(None)


def test_the_api_takes_the_traceparent_header(api: httpx.Client, rt: Runtime) -> None:
    sent = api.post(
        "/api/v1/items", json=update_body(OPP, STAGE), headers={"traceparent": TRACEPARENT}
    )
    assert sent.status_code == 201, sent.text
    assert load(rt, sent.json()["id"]).traceparent == TRACEPARENT
