"""Redis going away mid-traffic: requests carry on, writes are counted as lost, tracking resumes by itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from ollama_gateway.tasks import RedisTaskStore, TaskDocument, TaskTracker
from ollama_gateway.tasks.document import build_document
from ollama_gateway.tasks.store import TaskStoreUnavailableError
from tests.support.redis import RedisServer, free_port
from tests.tasks.conftest import wait_for

TIMEOUT = 0.2
# The most one store operation may take: connect + command timeouts, plus scheduling slack.
BOUND = 2 * TIMEOUT + 0.3


def errors_counted(registry: CollectorRegistry, op: str) -> float:
    """gateway_task_store_errors_total for one operation."""
    return registry.get_sample_value("gateway_task_store_errors_total", {"backend": "redis", "op": op}) or 0.0


def make_store(url: str, registry: CollectorRegistry) -> RedisTaskStore:
    """A store with short timeouts and a short breaker, to keep the suite fast."""
    return RedisTaskStore.from_url(url, timeout=TIMEOUT, retry_after=0.1, registry=registry)


async def read(store: RedisTaskStore, task_id: str) -> TaskDocument | None:
    """get(), with an outage read as 'not there yet'."""
    try:
        return await store.get(task_id)
    except TaskStoreUnavailableError:
        return None


async def run_request(tracker: TaskTracker, task_id: str) -> float:
    """One whole request lifecycle as the web layer drives it; returns the time spent in tracker calls."""
    started = time.monotonic()
    handle = await tracker.begin(task_id, "k", {"method": "POST"})
    handle.forwarding()
    handle.succeed()
    return time.monotonic() - started


async def test_outage_in_the_middle_of_traffic(
    redis_server_factory: Callable[[], RedisServer], registry: CollectorRegistry
) -> None:
    server = redis_server_factory()
    store = make_store(server.url(), registry)
    tracker = TaskTracker(store, heartbeat_sec=0.05, final_retry_sec=0.05, final_retry_window=0.2)
    try:
        await run_request(tracker, "before")
        await wait_for(lambda: read(store, "before"), lambda d: d is not None and d["state"] == "SUCCESS")

        server.stop()
        for i in range(5):
            assert await run_request(tracker, f"during-{i}") < BOUND
        await tracker.flush()
        assert errors_counted(registry, "put") >= 1
        assert not store.healthy
        with pytest.raises(TaskStoreUnavailableError) as caught:
            await store.get("during-0")
        assert caught.value.http_status == 503
        with pytest.raises(TaskStoreUnavailableError):
            await store.list("k")
        assert errors_counted(registry, "get") >= 1 and errors_counted(registry, "list") >= 1

        server.start()  # same port, empty: nothing persisted

        async def tracked_again() -> TaskDocument | None:
            await run_request(tracker, "after")
            await tracker.flush()
            return await read(store, "after")

        doc = await wait_for(tracked_again, lambda d: d is not None and d["state"] == "SUCCESS")
        assert doc is not None and doc["extensions"]["key_id"] == "k"
        assert store.healthy
        assert [d["task_id"] for d in await store.list("k")] == ["after"]
    finally:
        await tracker.close()
        await store.close()


async def test_a_final_state_lost_in_a_blip_is_written_when_redis_returns(
    redis_server_factory: Callable[[], RedisServer], registry: CollectorRegistry
) -> None:
    server = redis_server_factory()
    store = make_store(server.url(), registry)
    tracker = TaskTracker(store, heartbeat_sec=10, final_retry_sec=0.05, final_retry_window=5.0)
    try:
        handle = await tracker.begin("blip", None, {})
        handle.forwarding()
        await tracker.flush()
        server.stop()
        handle.succeed()
        await wait_for(lambda: _async(errors_counted(registry, "put")), lambda n: n >= 1)
        server.start()
        doc = await wait_for(lambda: read(store, "blip"), lambda d: d is not None)
        assert doc["state"] == "SUCCESS"
    finally:
        await tracker.close()
        await store.close()


async def test_a_stalled_redis_costs_at_most_the_timeout(
    redis_server_factory: Callable[[], RedisServer], registry: CollectorRegistry
) -> None:
    server = redis_server_factory()
    store = make_store(server.url(), registry)
    tracker = TaskTracker(store, heartbeat_sec=0.05, final_retry_sec=0.05, final_retry_window=0.1)
    try:
        await run_request(tracker, "warm")
        await tracker.flush()
        server.pause()
        assert await run_request(tracker, "stalled-1") < BOUND
        assert await run_request(tracker, "stalled-2") < BOUND
        started = time.monotonic()
        await tracker.flush()
        assert time.monotonic() - started < 1.0
        assert errors_counted(registry, "get") + errors_counted(registry, "put") >= 1
        server.resume()
    finally:
        await tracker.close()
        await store.close()


async def test_nothing_listening_fails_fast_and_counts(registry: CollectorRegistry) -> None:
    store = make_store(f"redis://127.0.0.1:{free_port()}/0", registry)
    tracker = TaskTracker(store, final_retry_sec=0.01, final_retry_window=0.05)
    try:
        started = time.monotonic()
        assert await store.put(_doc("x"), 60, None) is False
        assert await store.put(_doc("y"), 60, None) is False  # breaker open: skipped without a connect
        with pytest.raises(TaskStoreUnavailableError):
            await store.get("x")
        assert time.monotonic() - started < BOUND
        assert errors_counted(registry, "put") == 2
        assert not store.healthy
        assert await run_request(tracker, "z") < BOUND
        await tracker.flush()
    finally:
        await tracker.close()
        await store.close()


def _doc(task_id: str) -> TaskDocument:
    return build_document(
        task_id=task_id, state="PENDING", stage="accepted", message="request accepted", extensions={}, algorithm_id="a"
    )


async def _async(value: float) -> float:
    return value


async def test_a_burst_after_a_restart_waits_for_pooled_connections_instead_of_tripping_the_breaker(
    redis_server_factory: Callable[[], RedisServer], registry: CollectorRegistry
) -> None:
    server = redis_server_factory()
    store = RedisTaskStore.from_url(server.url(), timeout=0.5, retry_after=5.0, registry=registry, max_connections=4)
    try:
        assert await store.put(_doc("warm"), 60, "k")
        server.stop()
        server.start()  # every pooled connection is now broken
        written = await asyncio.gather(*(store.put(_doc(f"burst-{i}"), 60, "k") for i in range(200)))
        assert all(written)
        assert store.healthy
        assert errors_counted(registry, "put") == 0
        assert (await store.get("burst-199")) is not None
    finally:
        await store.close()
