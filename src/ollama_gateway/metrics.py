"""Prometheus metrics of one gateway: its own registry and every metric family, built per app, never at import.

Families are plain attributes so later parts (per-host fleet metrics) add theirs in `__init__` or with
`register_callback`. Label values are bounded: surfaces and endpoints are route constants, models are
catalog names only (anything else is recorded as `other`), status is a class such as `2xx`.

The request path does not touch prometheus_client: each finished request appends one tuple (`later`), and
the batch is folded into the families every `OBSERVE_BATCH` requests and before every scrape, so a scrape
always counts every request that ended before it. One fold of many requests in a tight loop
costs a fraction of the same work done cold, request by request (a child lookup, a lock and a few checks per
sample). The in-flight gauges are plain counts read at scrape time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
OTHER_MODEL: Final = "other"
_CHILDREN_MAX: Final = 10_000  # remembered label combinations (see GatewayMetrics.child)
OBSERVE_BATCH: Final = 64  # finished requests folded into the families at once (a fold of 64 takes ~0.3 ms)
LATENCY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
TTFT_BUCKETS: Final = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
_STATUS_CLASSES: Final = ("1xx", "2xx", "3xx", "4xx", "5xx")


def status_class(status: int) -> str:
    """`200` → `2xx`; anything outside 100..599 → `5xx`."""
    index = status // 100 - 1
    return _STATUS_CLASSES[index] if 0 <= index < len(_STATUS_CLASSES) else "5xx"


class _Callbacks(Collector):
    """Values read at scrape time from the parts that own them (queue depth, failure counts)."""

    def __init__(self) -> None:
        self.gauges: list[tuple[str, str, Callable[[], float]]] = []
        self.counters: list[tuple[str, str, Callable[[], float]]] = []

    def collect(self) -> Iterator[Metric]:
        for name, documentation, read in self.gauges:
            yield GaugeMetricFamily(name, documentation, value=read())
        for name, documentation, read in self.counters:
            yield CounterMetricFamily(name, documentation, value=read())

    def describe(self) -> Iterator[Metric]:
        return iter(())


class LiveGauge(Collector):
    """A gauge by one label, kept as plain counts by the request path and read at scrape time."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self.values: defaultdict[str, int] = defaultdict(int)

    def inc(self, value: str) -> None:
        """One more for the label `value`."""
        self.values[value] += 1

    def dec(self, value: str) -> None:
        """One fewer for the label `value`."""
        self.values[value] -= 1

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, count in list(self.values.items()):
            family.add_metric([value], count)
        yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())


class GatewayMetrics:
    """Every metric family of one gateway, in its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "gateway_requests",
            "Requests answered, by surface, endpoint, model and status class.",
            ["surface", "endpoint", "model", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "gateway_request_duration_seconds",
            "Time from accepting a request to its last byte, by surface and endpoint.",
            ["surface", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "gateway_time_to_first_token_seconds",
            "Time from accepting a generating request to its first output, by surface and endpoint.",
            ["surface", "endpoint"],
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "gateway_tokens", "Tokens in (prompt) and out (completion), by model.", ["direction", "model"], registry=r
        )
        self.in_flight = LiveGauge("gateway_requests_in_flight", "Requests being served now.", "surface")
        self.streams_open = LiveGauge("gateway_streams_open", "Streaming requests not yet finished.", "surface")
        r.register(self.in_flight)
        r.register(self.streams_open)
        self.limit_refusals = Counter(
            "gateway_key_limit_refusals", "Requests refused (429) by a key limit.", ["limit"], registry=r
        )
        self.auth_failures = Counter("gateway_auth_failures", "Requests refused with 401.", ["surface"], registry=r)
        self.invalidations = Counter(
            "gateway_invalidations",
            "Changes made by another process (keys, models, settings) applied here.",
            ["source"],
            registry=r,
        )
        self._callbacks = _Callbacks()
        r.register(self._callbacks)
        self._children: dict[tuple[Any, ...], Any] = {}
        self._pending: list[tuple[Callable[..., None], tuple[Any, ...]]] = []

    def register_callback(self, name: str, documentation: str, read: Callable[[], float], *, counter: bool) -> None:
        """Expose a value owned elsewhere, read at scrape time (a counter's name gets `_total` added)."""
        (self._callbacks.counters if counter else self._callbacks.gauges).append((name, documentation, read))

    def observe(
        self,
        surface: str,
        endpoint: str,
        model: str | None,
        status: int,
        latency: float,
        ttft: float | None,
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None:
        """Count one finished request; `model` is a catalog name or None (recorded as `other` / empty).

        The request path queues this with `later` instead of calling it.
        """
        label = model or ""
        self.child(self.requests, surface, endpoint, label, status_class(status)).inc()
        self.child(self.latency, surface, endpoint).observe(latency)
        if ttft is not None:
            self.child(self.ttft, surface, endpoint).observe(ttft)
        if prompt_tokens:
            self.child(self.tokens, "in", label or OTHER_MODEL).inc(prompt_tokens)
        if completion_tokens:
            self.child(self.tokens, "out", label or OTHER_MODEL).inc(completion_tokens)

    def later(self, record: Callable[..., None], *args: Any) -> None:
        """Run `record(*args)` with the next fold of the batch (at the latest, before the next scrape)."""
        self._pending.append((record, args))
        if len(self._pending) >= OBSERVE_BATCH:
            self.fold()

    def fold(self) -> None:
        """Fold every pending observation into the families."""
        pending, self._pending = self._pending, []
        for record, args in pending:
            record(*args)

    def child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, remembered: prometheus_client validates and locks on every `labels` call."""
        key = (id(metric), *labels)
        found = self._children.get(key)
        if found is None:
            if len(self._children) >= _CHILDREN_MAX:  # label values are bounded (the catalog), but never trust that
                self._children.clear()
            found = self._children[key] = metric.labels(*labels)
        return found

    def render(self) -> bytes:
        """The registry in Prometheus' text format, with every request that ended before this call."""
        self.fold()
        return generate_latest(self.registry)
