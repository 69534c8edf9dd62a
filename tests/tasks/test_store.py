"""The TaskStore contract, run against the embedded store and a real redis-server."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from ollama_gateway.settings import Settings
from ollama_gateway.tasks import MemoryTaskStore, RedisTaskStore, TaskDocument, TaskStore, open_task_store
from ollama_gateway.tasks.document import TaskState, build_document
from ollama_gateway.tasks.redis_store import INDEX_ALL, index_key, task_key


def doc(task_id: str, state: TaskState = "RUNNING", **extensions: object) -> TaskDocument:
    """A document with the stage/message that belong to `state`."""
    stage, message = {
        "PENDING": ("accepted", "request accepted"),
        "RUNNING": ("forwarding", "forwarding to upstream"),
        "SUCCESS": ("done", "completed"),
        "FAILED": ("error", "cancelled"),
    }[state]
    return build_document(
        task_id=task_id, state=state, stage=stage, message=message, extensions=extensions, algorithm_id="test"
    )


async def test_put_then_get_round_trips_and_records_the_owner(store: TaskStore) -> None:
    original = doc("t1", method="POST", path="/v1/chat/completions", stream=True)
    assert await store.put(original, 3600, "key-1") is True
    got = await store.get("t1")
    assert got is not None
    assert got == {**original, "extensions": {**original["extensions"], "key_id": "key-1"}}
    assert original["extensions"].get("key_id") is None  # the caller's document is not mutated
    assert store.healthy


async def test_get_missing_is_none(store: TaskStore) -> None:
    assert await store.get("nope") is None


async def test_rewrite_replaces_the_whole_document(store: TaskStore) -> None:
    await store.put(doc("t1", "RUNNING"), 3600, None)
    await store.put(doc("t1", "SUCCESS"), 86400, None)
    got = await store.get("t1")
    assert got is not None and got["state"] == "SUCCESS" and got["stage"] == "done"
    assert [d["task_id"] for d in await store.list(None)] == ["t1"]


async def test_list_is_newest_first_and_a_rewrite_moves_a_task_up(store: TaskStore) -> None:
    for name in ("a", "b", "c"):
        await store.put(doc(name), 3600, "k")
    assert [d["task_id"] for d in await store.list("k")] == ["c", "b", "a"]
    await store.put(doc("a", "SUCCESS"), 86400, "k")
    assert [d["task_id"] for d in await store.list("k")] == ["a", "c", "b"]
    assert [d["task_id"] for d in await store.list("k", limit=2)] == ["a", "c"]


async def test_list_limit_is_clamped_to_1_500(store: TaskStore) -> None:
    for i in range(501):
        await store.put(doc(f"t{i:04d}"), 3600, "k")
    for limit, expected in [(0, 1), (-5, 1), (1, 1), (499, 499), (500, 500), (10_000, 500)]:
        listed = await store.list("k", limit=limit)
        assert len(listed) == expected, limit
        assert listed[0]["task_id"] == "t0500"
        assert listed[-1]["task_id"] == f"t{501 - expected:04d}"


async def test_owners_see_only_their_tasks_and_the_admin_sees_all(store: TaskStore) -> None:
    await store.put(doc("a1"), 3600, "alice")
    await store.put(doc("b1"), 3600, "bob")
    await store.put(doc("admin1"), 3600, None)
    await store.put(doc("a2"), 3600, "alice")
    assert [d["task_id"] for d in await store.list("alice")] == ["a2", "a1"]
    assert [d["task_id"] for d in await store.list("bob")] == ["b1"]
    assert await store.list("carol") == []
    assert [d["task_id"] for d in await store.list(None)] == ["a2", "admin1", "b1", "a1"]


async def test_a_reowned_id_leaves_the_old_owners_listing(store: TaskStore) -> None:
    await store.put(doc("shared", "SUCCESS"), 86400, "alice")
    await store.put(doc("shared", "PENDING"), 3600, None)  # reused by the admin after it ended
    assert await store.list("alice") == []
    got = await store.get("shared")
    assert got is not None and got["extensions"]["key_id"] is None


async def test_ids_that_look_like_index_keys_are_plain_tasks(store: TaskStore) -> None:
    for name in ("index", "-index:all", "all", "index:all"):
        await store.put(doc(name), 3600, "all")
    await store.put(doc("other"), 3600, None)
    assert [d["task_id"] for d in await store.list("all")] == ["index:all", "all", "-index:all", "index"]
    assert len(await store.list(None)) == 5


async def test_redis_layout_and_ttls(redis_url: str, raw_redis: Redis[bytes]) -> None:
    store = RedisTaskStore.from_url(redis_url)
    try:
        await store.put(doc("run", "RUNNING"), 3600, "k")
        await store.put(doc("fin", "SUCCESS"), 86400, "k")
        await store.put(doc("index", "FAILED"), 86400, None)
    finally:
        await store.close()
    assert 3590 <= await raw_redis.ttl("ts:ollama:run") <= 3600
    assert 86390 <= await raw_redis.ttl("ts:ollama:fin") <= 86400
    assert await raw_redis.type(task_key("index")) == b"string"
    assert await raw_redis.type(INDEX_ALL) == b"zset"
    assert await raw_redis.type(index_key("k")) == b"zset"
    assert 0 < await raw_redis.ttl(INDEX_ALL) <= 86400
    scores = await raw_redis.zrange(INDEX_ALL, 0, -1, withscores=True)
    assert [m for m, _ in scores] == [b"run", b"fin", b"index"]
    assert all(score > 1.6e12 for _, score in scores)  # milliseconds
    assert sorted(k.decode() for k in await raw_redis.keys("ts:ollama:*")) == [
        "ts:ollama:fin",
        "ts:ollama:index",
        "ts:ollama:run",
    ]


async def test_redis_list_drops_ids_whose_document_expired(redis_url: str, raw_redis: Redis[bytes]) -> None:
    store = RedisTaskStore.from_url(redis_url)
    try:
        for name in ("a", "b", "c", "d"):
            await store.put(doc(name), 3600, "k")
        await raw_redis.delete(task_key("c"), task_key("d"))  # as if their TTL ran out
        assert [d["task_id"] for d in await store.list("k", limit=2)] == ["b", "a"]
        assert await raw_redis.zrange(index_key("k"), 0, -1) == [b"a", b"b"]
    finally:
        await store.close()


async def test_redis_index_is_trimmed(redis_url: str, raw_redis: Redis[bytes]) -> None:
    store = RedisTaskStore(Redis.from_url(redis_url), index_max=3)
    try:
        for i in range(5):
            await store.put(doc(f"t{i}"), 3600, None)
        assert await raw_redis.zrange(INDEX_ALL, 0, -1) == [b"t2", b"t3", b"t4"]
    finally:
        await store.close()


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_ttls_expire_against_the_injected_clock() -> None:
    clock = FakeClock()
    store = MemoryTaskStore(clock=clock)
    await store.put(doc("run", "RUNNING"), 3600, "k")
    await store.put(doc("fin", "SUCCESS"), 86400, "k")
    clock.now += 3599
    assert await store.get("run") is not None
    clock.now += 1
    assert await store.get("run") is None
    assert [d["task_id"] for d in await store.list("k")] == ["fin"]
    clock.now += 86400
    assert await store.list("k") == [] and await store.list(None) == []
    assert len(store) == 0


async def test_memory_store_is_bounded_oldest_evicted() -> None:
    store = MemoryTaskStore(max_docs=3)
    for i in range(5):
        await store.put(doc(f"t{i}"), 3600, "k" if i % 2 else None)
    assert len(store) == 3
    assert await store.get("t0") is None and await store.get("t1") is None
    assert [d["task_id"] for d in await store.list(None)] == ["t4", "t3", "t2"]
    assert [d["task_id"] for d in await store.list("k")] == ["t3"]


async def test_open_task_store_picks_the_backend(redis_url: str) -> None:
    embedded = open_task_store(Settings(redis_url=None, redis_host=None))
    assert isinstance(embedded, MemoryTaskStore)
    redis_backed = open_task_store(Settings(redis_url=redis_url, ttl_done=99), registry=CollectorRegistry())
    try:
        assert isinstance(redis_backed, RedisTaskStore)
        await redis_backed.put(doc("via-settings"), 60, None)
        assert await redis_backed.get("via-settings") is not None
    finally:
        await redis_backed.close()
    with pytest.raises(ValueError, match="no Redis"):
        RedisTaskStore.from_settings(Settings(redis_url=None, redis_host=None))


def test_the_embedded_store_keeps_documents_compactly() -> None:
    store = MemoryTaskStore(max_docs=10_000)

    async def fill(count: int) -> None:
        for i in range(count):
            await store.put(doc(f"compact-{i:05d}", "SUCCESS", model="llama3.2", path="/v1/chat/completions"), 60, "k")

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(fill(2000))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # ~400 bytes of JSON plus the entry and the indexes; orjson's own output would hold ~4 KiB per document.
    assert grown / 2000 < 1500
