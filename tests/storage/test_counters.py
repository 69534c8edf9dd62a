"""Rate counters: atomic fixed-window counts shared through the database."""

from __future__ import annotations

import asyncio

from ollama_gateway.storage import Storage, open_storage


async def test_hit_returns_the_running_count_per_window(storage: Storage) -> None:
    counters = storage.counters
    assert await counters.get("rpm:key_a", 60) == 0
    assert await counters.hit("rpm:key_a", 60) == 1
    assert await counters.hit("rpm:key_a", 60) == 2
    assert await counters.hit("rpm:key_a", 60, amount=10) == 12
    assert await counters.hit("rpm:key_a", 120) == 1  # a new window starts from zero
    assert await counters.hit("tpm:key_a", 60, amount=500) == 500  # buckets are independent
    assert await counters.get("rpm:key_a", 60) == 12


async def test_concurrent_hits_are_never_lost(storage: Storage) -> None:
    results = await asyncio.gather(*(storage.counters.hit("rpm:busy", 0) for _ in range(200)))
    assert sorted(results) == list(range(1, 201))  # every hit saw its own distinct count
    assert await storage.counters.get("rpm:busy", 0) == 200


async def test_hits_from_two_engines_share_one_count(storage_url: str) -> None:
    # Two separately opened storages stand in for two gateway processes or replicas.
    first = await open_storage(storage_url)
    second = await open_storage(storage_url)
    try:
        results = await asyncio.gather(
            *(store.counters.hit("tpm:shared", 0, amount=2) for store in [first, second] * 50)
        )
        assert sorted(results) == list(range(2, 201, 2))
        assert await second.counters.get("tpm:shared", 0) == 200
    finally:
        await first.close()
        await second.close()


async def test_prune_drops_old_windows(storage: Storage) -> None:
    for window in (0, 60, 120, 180):
        await storage.counters.hit("b", window)
    assert await storage.counters.prune(before=120) == 2
    assert [await storage.counters.get("b", w) for w in (0, 60, 120, 180)] == [0, 0, 1, 1]
