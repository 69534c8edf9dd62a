"""`/metrics`: per-app registry, request/latency/token families, refusals, failures, and METRICS_TOKEN."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import openai
import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from ollama_gateway.metrics import LATENCY_BUCKETS, GatewayMetrics, status_class
from tests.ops.helpers import scrape, total, value, wait_for
from tests.support.gateway import GatewayServer

CHAT = "/v1/chat/completions"


def sdk(server: GatewayServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=20)


def test_requests_latency_and_tokens_are_counted(gateway_server: GatewayServer) -> None:
    key = gateway_server.create_key()
    with sdk(gateway_server, key) as client:
        reply = client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
        chunks = list(
            client.chat.completions.create(
                model="llama3.2",
                messages=[{"role": "user", "content": "stream please"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    streamed = next(c.usage for c in chunks if c.usage is not None)
    assert reply.usage is not None

    def settled() -> dict | None:
        samples = scrape(gateway_server.url)
        done = value(
            samples, "gateway_requests_total", surface="openai", endpoint=CHAT, model="llama3.2:latest", status="2xx"
        )
        return samples if done == 2 else None

    samples = wait_for(settled)
    assert value(samples, "gateway_tokens_total", direction="in", model="llama3.2:latest") == (
        reply.usage.prompt_tokens + streamed.prompt_tokens
    )
    assert value(samples, "gateway_tokens_total", direction="out", model="llama3.2:latest") == (
        reply.usage.completion_tokens + streamed.completion_tokens
    )
    assert value(samples, "gateway_request_duration_seconds_count", surface="openai", endpoint=CHAT) == 2
    assert value(samples, "gateway_time_to_first_token_seconds_count", surface="openai", endpoint=CHAT) == 2
    assert value(samples, "gateway_requests_in_flight", surface="openai") == 0
    assert value(samples, "gateway_streams_open", surface="openai") == 0
    assert value(samples, "gateway_usage_queue_depth") >= 0
    assert ("gateway_usage_flush_failures_total", ()) in samples
    assert ("gateway_catalog_refresh_failures_total", ()) in samples


def test_unknown_models_do_not_become_labels(gateway_server: GatewayServer) -> None:
    key = gateway_server.create_key()
    with sdk(gateway_server, key) as client:
        for name in ("no-such-model-1", "no-such-model-2"):
            with pytest.raises(openai.NotFoundError):
                client.chat.completions.create(model=name, messages=[{"role": "user", "content": "hi"}])

    def refused_twice() -> dict | None:
        samples = scrape(gateway_server.url)
        return samples if total(samples, "gateway_requests_total", status="4xx") == 2 else None

    samples = wait_for(refused_twice)
    assert value(samples, "gateway_requests_total", surface="openai", endpoint=CHAT, model="", status="4xx") == 2
    assert not any("no-such-model" in str(labels) for _, labels in samples)


def test_auth_failures_and_key_limit_refusals(gateway_server: GatewayServer) -> None:
    key = gateway_server.create_key(rpm=1)
    with sdk(gateway_server, key) as client:
        client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": "one"}])
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": "two"}])
    with sdk(gateway_server, "sk-og-wrong") as client, pytest.raises(openai.AuthenticationError):
        client.models.list()
    samples = scrape(gateway_server.url)
    assert value(samples, "gateway_key_limit_refusals_total", limit="rpm") == 1
    assert value(samples, "gateway_auth_failures_total", surface="openai") == 1
    assert (
        value(samples, "gateway_requests_total", surface="openai", endpoint="/v1/models", model="", status="4xx") == 1
    )


def test_catalog_refresh_failures_are_counted(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(ollama_url="http://127.0.0.1:9")
    assert value(scrape(server.url), "gateway_catalog_refresh_failures_total") >= 1


def test_task_store_errors_land_in_the_app_registry(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(redis_url="redis://127.0.0.1:9/0", redis_timeout=0.2)
    key = server.create_key()
    with sdk(server, key) as client:
        client.chat.completions.create(model="llama3.2", messages=[{"role": "user", "content": "hi"}])

    def errors_counted() -> dict | None:
        samples = scrape(server.url)
        return samples if total(samples, "gateway_task_store_errors_total") > 0 else None

    samples = wait_for(errors_counted)
    assert total(samples, "gateway_task_store_errors_total", backend="redis") > 0


def test_metrics_token_guards_the_endpoint(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(metrics_token="scrape-secret")
    refused = httpx.get(server.url + "/metrics")
    assert refused.status_code == 401
    assert httpx.get(server.url + "/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert (
        "gateway_requests_in_flight"
        in httpx.get(server.url + "/metrics", headers={"Authorization": "Bearer scrape-secret"}).text
    )


def test_each_app_has_its_own_registry() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.observe("openai", CHAT, "m", 200, 0.1, 0.05, 3, 4)
    assert first.registry is not second.registry
    assert b"gateway_requests_total{" in first.render()
    assert b"gateway_requests_total{" not in second.render()
    shared = CollectorRegistry()
    assert GatewayMetrics(shared).registry is shared


def _requests_total(metrics: GatewayMetrics) -> float:
    return (
        metrics.registry.get_sample_value(
            "gateway_requests_total", {"surface": "openai", "endpoint": CHAT, "model": "m", "status": "2xx"}
        )
        or 0.0
    )


def test_a_finished_request_is_counted_at_once() -> None:
    metrics = GatewayMetrics()
    metrics.observe("openai", CHAT, "m", 200, 0.1, 0.05, 3, 4)
    assert _requests_total(metrics) == 1  # no batch to wait for: the next scrape sees it
    metrics.observe("openai", CHAT, None, 503, 0.2, None, 0, 0)
    text = metrics.render().decode()
    assert f'gateway_requests_total{{endpoint="{CHAT}",model="",status="5xx",surface="openai"}} 1.0' in text
    assert 'gateway_tokens_total{direction="out",model="m"} 4.0' in text
    assert 'gateway_tokens_total{direction="in",model="other"}' not in text  # zero tokens add no series


@pytest.mark.parametrize(
    "values", [[0.1, 0.05, 0.25, 7.0, 700.0], [0.0, 0.5, 0.5, 600.0, 1e-9], [], [12.5] * 3], ids=repr
)
def test_live_families_render_as_prometheus_client_would(values: list[float]) -> None:
    """The plain-number families print exactly what prometheus_client's Counter and Histogram print for the
    same samples (its `_created` series aside), so dashboards and alerts see no difference."""
    live = GatewayMetrics()
    reference = CollectorRegistry()
    requests = Counter("gateway_requests", "Requests.", ["surface", "endpoint", "model", "status"], registry=reference)
    latency = Histogram(
        "gateway_request_duration_seconds",
        "Latency.",
        ["surface", "endpoint"],
        buckets=LATENCY_BUCKETS,
        registry=reference,
    )
    for i, seconds in enumerate(values):
        status = 200 if i % 2 == 0 else 404
        live.observe("openai", CHAT, "m", status, seconds, None, 0, 0)
        requests.labels("openai", CHAT, "m", status_class(status)).inc()
        latency.labels("openai", CHAT).observe(seconds)

    def samples(text: str, family: str) -> list[str]:
        return sorted(line for line in text.splitlines() if line.startswith(family) and "_created" not in line)

    ours, theirs = live.render().decode(), generate_latest(reference).decode()
    for family in ("gateway_requests_total", "gateway_request_duration_seconds"):
        assert samples(ours, family) == samples(theirs, family)
    assert len(samples(ours, "gateway_request_duration_seconds_bucket")) == (len(LATENCY_BUCKETS) + 1 if values else 0)


def test_in_flight_gauges_are_counts_read_at_scrape_time() -> None:
    metrics = GatewayMetrics()
    assert "# TYPE gateway_requests_in_flight gauge" in metrics.render().decode()
    metrics.in_flight.inc("openai")
    metrics.in_flight.inc("openai")
    metrics.streams_open.inc("anthropic")
    text = metrics.render().decode()
    assert 'gateway_requests_in_flight{surface="openai"} 2.0' in text
    assert 'gateway_streams_open{surface="anthropic"} 1.0' in text
    metrics.in_flight.dec("openai")
    assert 'gateway_requests_in_flight{surface="openai"} 1.0' in metrics.render().decode()


def test_callbacks_are_read_at_scrape_time() -> None:
    metrics = GatewayMetrics()
    depth = [3]
    metrics.register_callback("gateway_test_depth", "A test gauge.", lambda: depth[0], counter=False)
    assert b"gateway_test_depth 3.0" in metrics.render()
    depth[0] = 7
    assert b"gateway_test_depth 7.0" in metrics.render()


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, "2xx"), (204, "2xx"), (404, "4xx"), (499, "4xx"), (502, "5xx"), (99, "5xx"), (700, "5xx")],
)
def test_status_class(status: int, expected: str) -> None:
    assert status_class(status) == expected
