"""Prometheus metrics, one registry per runtime so several apps can live in one process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class Metrics:
    """Counters the runtime bumps, plus gauges read from the database at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.items = Counter(
            "airlock_items_total",
            "Items received, by workflow, status and gate",
            ["workflow", "status", "gate"],
            registry=self.registry,
        )
        self.refused = Counter(
            "airlock_intake_refused_total",
            "Submissions refused at intake, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "airlock_outbox_attempts_total",
            "Outbox delivery attempts, by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.intake_seconds = Histogram(
            "airlock_intake_seconds",
            "Time to accept one submission",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )

    def watch(self, name: str, help_text: str, read: Callable[[], dict[str, float]]) -> None:
        """Expose a gauge family whose values `read` computes at scrape time."""
        self.registry.register(_Gauges(name, help_text, read))

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


class _Gauges(Collector):
    def __init__(self, name: str, help_text: str, read: Callable[[], dict[str, float]]) -> None:
        self.name, self.help_text, self.read = name, help_text, read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.name, self.help_text, labels=["key"])
        for key, value in sorted(self.read().items()):
            family.add_metric([key], value)
        yield family
