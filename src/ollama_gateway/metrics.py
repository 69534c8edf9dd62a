"""Prometheus metrics of one gateway: its own registry and every metric family, built per app, never at import.

Families are plain attributes so later parts (per-host fleet metrics) add theirs in `__init__` or with
`register_callback`. Label values are bounded: surfaces and endpoints are route constants, models are
catalog names only (anything else is recorded as `other`), status is a class such as `2xx`.

The request path does not touch prometheus_client: the per-request families (`Live*`) are plain numbers in
dictionaries, counted at once and turned into metric families only when Prometheus scrapes. A
prometheus_client sample costs a child lookup, a lock and a few checks, each run cold per request; a live one
is a dictionary update. Everything runs on the event loop, so nothing needs a lock.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Final

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
OTHER_MODEL: Final = "other"
_SERIES_MAX: Final = 10_000  # label combinations one live family keeps (values are bounded; never trust that)
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


class LiveCounter(Collector):
    """A counter family kept as plain sums per label tuple, rendered at scrape time (`name` without `_total`)."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str]) -> None:
        self.name, self.documentation, self.labels = name, documentation, list(labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, labels: tuple[str, ...], amount: float = 1) -> None:
        """Add `amount` to the series of `labels` (values in the order of the family's label names)."""
        values = self.values
        if labels in values:
            values[labels] += amount
        elif len(values) < _SERIES_MAX:
            values[labels] = amount

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, total in list(self.values.items()):
            family.add_metric(list(labels), total)
        yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())


class LiveHistogram(Collector):
    """A histogram family kept as plain bucket counts per label tuple, rendered at scrape time."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str], buckets: Sequence[float]) -> None:
        self.name, self.documentation, self.labels = name, documentation, list(labels)
        self.bounds = tuple(sorted(buckets))
        # Per label tuple: a count per bucket (the last one is +Inf), then the sum of every observed value.
        self.series: dict[tuple[str, ...], list[float]] = {}

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        """Count `value` in the series of `labels`."""
        counts = self.series.get(labels)
        if counts is None:
            if len(self.series) >= _SERIES_MAX:
                return
            counts = self.series[labels] = [0.0] * (len(self.bounds) + 2)
        counts[bisect_left(self.bounds, value)] += 1  # the first bucket whose bound is >= value ("le")
        counts[-1] += value

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        names = [*(_bound_text(b) for b in self.bounds), "+Inf"]
        for labels, counts in list(self.series.items()):
            cumulative, buckets = 0.0, []
            for name, count in zip(names, counts, strict=False):
                cumulative += count
                buckets.append((name, cumulative))
            family.add_metric(list(labels), buckets, counts[-1])
        yield family

    def describe(self) -> Iterator[Metric]:
        return iter(())


def _bound_text(bound: float) -> str:
    # prometheus_client's spelling of a bucket bound (`0.5`, `1.0`, `300.0`), so dashboards see the same `le`.
    return repr(float(bound))


class GatewayMetrics:
    """Every metric family of one gateway, in its own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = LiveCounter(
            "gateway_requests",
            "Requests answered, by surface, endpoint, model and status class.",
            ["surface", "endpoint", "model", "status"],
        )
        self.latency = LiveHistogram(
            "gateway_request_duration_seconds",
            "Time from accepting a request to its last byte, by surface and endpoint.",
            ["surface", "endpoint"],
            LATENCY_BUCKETS,
        )
        self.ttft = LiveHistogram(
            "gateway_time_to_first_token_seconds",
            "Time from accepting a generating request to its first output, by surface and endpoint.",
            ["surface", "endpoint"],
            TTFT_BUCKETS,
        )
        self.tokens = LiveCounter(
            "gateway_tokens", "Tokens in (prompt) and out (completion), by model.", ["direction", "model"]
        )
        self.in_flight = LiveGauge("gateway_requests_in_flight", "Requests being served now.", "surface")
        self.streams_open = LiveGauge("gateway_streams_open", "Streaming requests not yet finished.", "surface")
        for live in (self.requests, self.latency, self.ttft, self.tokens, self.in_flight, self.streams_open):
            r.register(live)
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
        """Count one finished request; `model` is a catalog name or None (recorded as `other` / empty)."""
        label = model or ""
        self.requests.inc((surface, endpoint, label, status_class(status)))
        where = (surface, endpoint)
        self.latency.observe(where, latency)
        if ttft is not None:
            self.ttft.observe(where, ttft)
        if prompt_tokens:
            self.tokens.inc(("in", label or OTHER_MODEL), prompt_tokens)
        if completion_tokens:
            self.tokens.inc(("out", label or OTHER_MODEL), completion_tokens)

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
