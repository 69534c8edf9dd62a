"""The fleet's metrics: per host load, capacity, health and outcomes, and the queue, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ollama_gateway.metrics import GatewayMetrics, LiveHistogram
from ollama_gateway.upstream.fleet import Fleet

QUEUE_WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
BREAKER_STATES = ("closed", "half_open", "open")


class FleetCollector(Collector):
    """Reads the fleet's own counts when Prometheus scrapes; nothing is updated per request."""

    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet

    def collect(self) -> Iterator[Metric]:
        """One sample per host for each family, plus the queue."""
        fleet = self._fleet
        in_flight = GaugeMetricFamily("gateway_host_in_flight", "Requests running on the host.", labels=["host"])
        capacity = GaugeMetricFamily("gateway_host_capacity", "Requests the host takes at once.", labels=["host"])
        up = GaugeMetricFamily("gateway_host_up", "1 when the host may take requests.", labels=["host"])
        breaker = GaugeMetricFamily(
            "gateway_host_breaker_state", "1 for the host's current breaker state.", labels=["host", "state"]
        )
        latency = GaugeMetricFamily(
            "gateway_host_probe_latency_seconds", "The last health probe's latency.", labels=["host"]
        )
        outcomes = CounterMetricFamily(
            "gateway_host_requests", "Requests finished on the host, by outcome.", labels=["host", "outcome"]
        )
        labels = {}
        for state in fleet.states():
            host = state.config.label
            labels[state.config.id] = host
            in_flight.add_metric([host], state.in_flight)
            capacity.add_metric([host], state.config.max_concurrent)
            up.add_metric([host], 1.0 if state.routable else 0.0)
            for name in BREAKER_STATES:
                breaker.add_metric([host, name], 1.0 if state.breaker == name else 0.0)
            if state.latency_ms is not None:
                latency.add_metric([host], state.latency_ms / 1000)
        for (host_id, outcome), count in sorted(fleet.outcomes.items()):
            outcomes.add_metric([labels.get(host_id, host_id), outcome], count)
        yield from (in_flight, capacity, up, breaker, latency, outcomes)
        yield GaugeMetricFamily("gateway_queue_length", "Requests waiting for a free host.", value=fleet.queue.waiting)
        yield GaugeMetricFamily(
            "gateway_queue_oldest_wait_seconds",
            "How long the oldest queued request has waited.",
            value=fleet.queue.oldest_wait_seconds,
        )
        yield CounterMetricFamily(
            "gateway_failovers", "Requests moved to another host before their first byte.", value=fleet.failovers
        )
        yield CounterMetricFamily(
            "gateway_affinity_hits", "Requests sent to their conversation's host.", value=fleet.affinity_hits
        )
        yield CounterMetricFamily("gateway_dispatches", "Requests given a host slot.", value=fleet.dispatched)

    def describe(self) -> Iterator[Metric]:
        """Nothing up front: the families depend on the hosts."""
        return iter(())


def install_fleet_metrics(metrics: GatewayMetrics, fleet: Fleet) -> None:
    """Register the fleet's collector and the queue wait histogram in the gateway's registry."""
    metrics.registry.register(FleetCollector(fleet))
    wait = LiveHistogram(
        "gateway_queue_wait_seconds",
        "How long requests waited for a host slot (0 when one was free).",
        [],
        QUEUE_WAIT_BUCKETS,
    )
    metrics.registry.register(wait)
    fleet.on_wait = lambda seconds: wait.observe((), seconds)
