"""OpenTelemetry spans for intake, decisions and write-back, opt-in by the standard `OTEL_*` env.

Off (the default) it costs one `is None` test per span: no SDK is imported or set up. On when
`OTEL_TRACES_EXPORTER` or an `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT` is set and `OTEL_SDK_DISABLED`
is not `true` (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/);
the SDK itself reads `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and the exporter's settings.

The agent's W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header) is taken
at intake and stored with the item, so the decision and write spans, which happen minutes or days
later in another thread or process, join the agent's trace as its children.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from bot.base.config import ConfigError

# version-traceid-parentid-flags; version ff and all-zero ids are invalid (W3C section 3.2.2).
_TRACEPARENT = re.compile(
    r"^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$"
)
_EXPORTERS = ("otlp", "console")
_tracer: Any = None  # an opentelemetry Tracer once configured; None: tracing is off


def valid_traceparent(header: str | None) -> str | None:
    """The header when it is a well-formed W3C traceparent; otherwise None (start a new trace)."""
    value = (header or "").strip().lower()
    return value if _TRACEPARENT.match(value) else None


def wanted(env: Mapping[str, str]) -> bool:
    """Whether the environment asks for traces."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    keys = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT")
    return any(env.get(k) for k in (*keys, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure(env: Mapping[str, str]) -> bool:
    """Set up the SDK when the environment asks for it; answers whether tracing is on."""
    if not wanted(env):
        return False
    try:
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError as exc:
        raise ConfigError(
            "OTEL_* asks for traces: `pip install 'airlock[otel]'` (opentelemetry-sdk)"
        ) from exc
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()  # its Resource reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
    for name in env.get("OTEL_TRACES_EXPORTER", "otlp").split(","):
        provider.add_span_processor(BatchSpanProcessor(_exporter(name.strip())))
    use(provider)
    return True


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name != "otlp":
        raise ConfigError(
            f"OTEL_TRACES_EXPORTER={name!r}: Airlock supports {', '.join(_EXPORTERS)}"
        )
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise ConfigError(
            "OTEL_TRACES_EXPORTER=otlp needs `pip install opentelemetry-exporter-otlp-proto-http`"
        ) from exc
    return OTLPSpanExporter()


def use(provider: Any) -> None:
    """Trace with this TracerProvider (None: stop tracing); tests pass an in-memory one."""
    global _tracer
    _tracer = None if provider is None else provider.get_tracer("airlock")


def on() -> bool:
    """Whether spans are recorded (callers skip building attributes when not)."""
    return _tracer is not None


def record(
    name: str,
    traceparent: str | None,
    attributes: Mapping[str, Any],
    start: datetime,
    link: Any = None,
) -> None:
    """A finished span from `start` until now (a wait already over); a no-op when off."""
    with span(name, traceparent, attributes, start, link):
        return


@contextmanager
def span(
    name: str,
    traceparent: str | None,
    attributes: Mapping[str, Any],
    start: datetime | None = None,
    link: Any = None,
) -> Iterator[Any]:
    """A span under the agent's `traceparent` (a new trace without one); a no-op when off.

    `start` backdates it (an approval span covers the wait for the human); `link` is another
    span it relates to without being its child (an item's write and its batch).
    """
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace import Link
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent or ""})
    with _tracer.start_as_current_span(
        name,
        context=parent,
        attributes=dict(attributes),
        start_time=int(start.timestamp() * 1e9) if start is not None else None,
        links=[Link(link.get_span_context())] if link is not None else None,
    ) as current:
        yield current
