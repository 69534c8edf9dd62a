"""KeyLimiter over real SQLite and PostgreSQL: rpm, tpm and budget, shared by several limiters (replicas)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import pytest

from ollama_gateway.errors import RateLimitError
from ollama_gateway.policy.limits import BUDGET_CODE, RATE_LIMIT_CODE, rpm_bucket, tpm_bucket
from ollama_gateway.service.limits import KeyLimiter
from ollama_gateway.storage import CounterStore, KeyRecord, KeyStore, Storage, open_storage

T0 = 1_800_000_000.0  # the start of a window (a multiple of 60)


class Clock:
    """A settable clock, so window boundaries are crossed by assignment, not by sleeping."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    """A migrated, empty database on the parametrised engine."""
    opened = await open_storage(storage_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def clock() -> Clock:
    """The limiters' shared clock."""
    return Clock()


@pytest.fixture
async def limiter(storage: Storage, clock: Clock) -> AsyncIterator[KeyLimiter]:
    """A limiter on the test database, closed after the test."""
    made = KeyLimiter(storage.counters, storage.keys, clock=clock)
    try:
        yield made
    finally:
        await made.close()


async def admitted(limiter: KeyLimiter, key: KeyRecord) -> bool:
    """True when admitted, False on a 429."""
    try:
        await limiter.admit(key)
    except RateLimitError:
        return False
    return True


async def test_rpm_admits_exactly_the_limit_then_resets_next_window(
    storage: Storage, limiter: KeyLimiter, clock: Clock
) -> None:
    key, _ = await storage.keys.create("k", rpm=3)
    clock.now = T0 + 15.2
    for _ in range(3):
        await limiter.admit(key)
    with pytest.raises(RateLimitError) as caught:
        await limiter.admit(key)
    assert caught.value.retry_after == 45  # 44.8 s to the window's end, rounded up
    assert caught.value.code == RATE_LIMIT_CODE
    clock.now = T0 + 60
    assert await admitted(limiter, key)
    assert await storage.counters.get(rpm_bucket(key.id), int(T0)) == 4  # the refused one was counted too
    assert await storage.counters.get(rpm_bucket(key.id), int(T0) + 60) == 1


async def test_two_replicas_share_one_rpm(storage_url: str, storage: Storage, clock: Clock) -> None:
    key, _ = await storage.keys.create("shared", rpm=7)
    other = await open_storage(storage_url, migrate=False)  # a second replica: its own engine and pool
    replicas = [
        KeyLimiter(storage.counters, storage.keys, clock=clock),
        KeyLimiter(other.counters, other.keys, clock=clock),
    ]
    try:
        results = await asyncio.gather(*(admitted(replicas[i % 2], key) for i in range(24)))
    finally:
        for replica in replicas:
            await replica.close()
        await other.close()
    assert sum(results) == 7
    assert await storage.counters.get(rpm_bucket(key.id), int(T0)) == 24


async def test_tpm_counts_charged_tokens_before_and_after_they_are_written(
    storage: Storage, limiter: KeyLimiter, clock: Clock
) -> None:
    key, _ = await storage.keys.create("k", tpm=100)
    await limiter.admit(key)
    limiter.charge(key.id, 60)
    await limiter.drain()
    assert await storage.counters.get(tpm_bucket(key.id), int(T0)) == 60
    await limiter.admit(key)  # 60 < 100
    limiter.charge(key.id, 40)  # not yet written: still counted by this process
    with pytest.raises(RateLimitError) as caught:
        await limiter.admit(key)
    assert caught.value.retry_after == 60
    await limiter.drain()
    assert await storage.counters.get(tpm_bucket(key.id), int(T0)) == 100
    clock.now = T0 + 61
    await limiter.admit(key)


async def test_tpm_seen_by_another_replica(storage_url: str, storage: Storage, clock: Clock) -> None:
    key, _ = await storage.keys.create("k", tpm=50)
    other = await open_storage(storage_url, migrate=False)
    first = KeyLimiter(storage.counters, storage.keys, clock=clock)
    second = KeyLimiter(other.counters, other.keys, clock=clock)
    try:
        first.charge(key.id, 30)
        second.charge(key.id, 25)
        await first.drain()
        await second.drain()
        for replica in (first, second):
            assert not await admitted(replica, key)
    finally:
        await first.close()
        await second.close()
        await other.close()


async def test_budget_reads_the_shared_total_and_a_raised_budget_helps(
    storage: Storage, limiter: KeyLimiter, clock: Clock
) -> None:
    key, _ = await storage.keys.create("k", token_budget=100)
    await limiter.admit(key)
    limiter.charge(key.id, 70)
    limiter.charge(key.id, 30)
    await limiter.drain()
    stored = await storage.keys.get(key.id)
    assert stored is not None and stored.tokens_used == 100
    clock.now = T0 + 3600  # waiting does not refill a budget
    with pytest.raises(RateLimitError) as caught:
        await limiter.admit(key)  # `key` is the stale record from before any charge
    assert caught.value.code == BUDGET_CODE
    assert "budget exhausted" in caught.value.message
    await storage.keys.update(key.id, token_budget=150)
    await limiter.admit(key)


async def test_budget_counts_unwritten_charges(storage: Storage, limiter: KeyLimiter) -> None:
    key, _ = await storage.keys.create("k", token_budget=10)
    limiter.charge(key.id, 10)
    assert limiter.pending_tokens == 10
    assert not await admitted(limiter, key)


async def test_charge_key_only_for_keys_whose_tokens_matter(storage: Storage, limiter: KeyLimiter) -> None:
    plain, _ = await storage.keys.create("plain")
    rpm_only, _ = await storage.keys.create("rpm", rpm=5)
    budgeted, _ = await storage.keys.create("budget", token_budget=1000)
    for key in (plain, rpm_only, budgeted, None):
        limiter.charge_key(key, 12)
    limiter.charge_key(budgeted, 0)
    await limiter.drain()
    used = {record.name: record.tokens_used for record in await storage.keys.list()}
    assert used == {"plain": 0, "rpm": 0, "budget": 12}


async def test_close_writes_what_is_queued(storage: Storage, clock: Clock) -> None:
    key, _ = await storage.keys.create("k", tpm=1000, token_budget=1000)
    limiter = KeyLimiter(storage.counters, storage.keys, clock=clock)
    limiter.charge(key.id, 5)
    limiter.charge(key.id, 6)
    await limiter.close()
    limiter.charge(key.id, 100)  # after close: ignored, not a crash
    stored = await storage.keys.get(key.id)
    assert stored is not None and stored.tokens_used == 11
    assert await storage.counters.get(tpm_bucket(key.id), int(T0)) == 11


async def test_old_windows_are_pruned_now_and_then(storage: Storage, clock: Clock) -> None:
    key, _ = await storage.keys.create("k", rpm=100)
    limiter = KeyLimiter(storage.counters, storage.keys, clock=clock, prune_seconds=300)
    try:
        await limiter.admit(key)
        clock.now = T0 + 120
        await limiter.admit(key)  # within prune_seconds of the last prune: the first window stays
        await limiter.drain()
        assert await storage.counters.get(rpm_bucket(key.id), int(T0)) == 1
        clock.now = T0 + 400
        await limiter.admit(key)
        await limiter.drain()
        assert await storage.counters.get(rpm_bucket(key.id), int(T0)) == 0
        assert await storage.counters.get(rpm_bucket(key.id), int(T0) + 120) == 0
        assert await storage.counters.get(rpm_bucket(key.id), int(T0) + 360) == 1
    finally:
        await limiter.close()


class Untouchable:
    """A store that fails the test when used at all."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a key without limits touched the database ({name})")


async def test_keys_without_limits_cost_no_database_work(storage: Storage) -> None:
    key, _ = await storage.keys.create("free")
    limiter = KeyLimiter(cast(CounterStore, Untouchable()), cast(KeyStore, Untouchable()))
    for _ in range(5):
        await limiter.admit(key)
    limiter.charge_key(key, 1000)
    await limiter.close()


class FlakyCounters:
    """Counters whose writes fail until `healthy` is set."""

    def __init__(self, real: CounterStore) -> None:
        self.real = real
        self.healthy = False
        self.calls: list[tuple[str, int, int]] = []

    async def hit(self, bucket: str, window_start: int, amount: int = 1) -> int:
        self.calls.append((bucket, window_start, amount))
        if not self.healthy:
            raise OSError("database unreachable")
        return await self.real.hit(bucket, window_start, amount)

    async def get(self, bucket: str, window_start: int) -> int:
        return await self.real.get(bucket, window_start)

    async def prune(self, before: int) -> int:
        return await self.real.prune(before)


async def test_failed_charges_are_kept_and_retried(
    storage: Storage, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    key, _ = await storage.keys.create("k", tpm=1000, token_budget=1000)
    counters = FlakyCounters(storage.counters)
    limiter = KeyLimiter(cast(CounterStore, counters), storage.keys, clock=clock)
    limiter.charge(key.id, 8)
    await limiter.drain()
    assert limiter.pending_tokens == 8
    assert "charging tokens failed" in caplog.text
    counters.healthy = True
    limiter.charge(key.id, 2)
    await limiter.close()
    assert limiter.pending_tokens == 0
    stored = await storage.keys.get(key.id)
    assert stored is not None and stored.tokens_used == 10
    assert await storage.counters.get(tpm_bucket(key.id), int(T0)) == 10
    assert _amounts(counters.calls) == [8, 10]


def _amounts(calls: Sequence[tuple[str, int, int]]) -> list[int]:
    return [amount for _, _, amount in calls]
