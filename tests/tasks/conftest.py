"""Fixtures for task tests: every store behaviour runs against the embedded store and a real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from ollama_gateway.tasks import MemoryTaskStore, RedisTaskStore, TaskDocument, TaskStore

POLL_DEADLINE_SEC = 3.0


@pytest.fixture
def registry() -> CollectorRegistry:
    """A private Prometheus registry, so counters start at zero in every test."""
    return CollectorRegistry()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, registry: CollectorRegistry) -> AsyncIterator[TaskStore]:
    """Each backend in turn: the embedded store, then Redis (a throwaway server)."""
    if request.param == "memory":
        memory = MemoryTaskStore()
        yield memory
        await memory.close()
        return
    url: str = request.getfixturevalue("redis_url")
    backend = RedisTaskStore.from_url(url, timeout=0.5, registry=registry)
    yield backend
    await backend.close()


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[Redis[bytes]]:
    """A plain client on the test database, to look behind the store (TTL, keys)."""
    client: Redis[bytes] = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def wait_for(
    probe: Callable[[], Awaitable[Any]], predicate: Callable[[Any], bool], deadline: float = POLL_DEADLINE_SEC
) -> Any:
    """Poll `probe` until `predicate` holds on its result; fail after a bounded deadline."""
    end = time.monotonic() + deadline
    while True:
        value = await probe()
        if predicate(value):
            return value
        if time.monotonic() > end:
            pytest.fail(f"condition not met within {deadline}s; last value: {value!r}")
        await asyncio.sleep(0.01)


async def wait_for_stage(store: TaskStore, task_id: str, state: str, stage: str) -> TaskDocument:
    """Wait until the store shows `task_id` in `state`/`stage`."""
    doc: TaskDocument = await wait_for(
        lambda: store.get(task_id),
        lambda d: d is not None and d["state"] == state and d["stage"] == stage,
    )
    return doc
