"""The login throttle: attempts counted before the password check, in the shared database, per address and overall."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ollama_gateway.admin.throttle import LoginThrottle, ThrottleLimits
from ollama_gateway.storage import Storage, open_storage

LIMITS = ThrottleLimits(per_address=5, overall=20, window_seconds=900)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # a window boundary (divisible by 900)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    opened = await open_storage(storage_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_the_sixth_attempt_in_a_window_waits_for_the_window_to_end(storage: Storage) -> None:
    clock = Clock()
    throttle = LoginThrottle(storage.login_attempts, LIMITS, clock)
    clock.now += 100
    assert [await throttle.attempt("a") for _ in range(5)] == [0] * 5
    assert await throttle.attempt("a") == 800
    assert await throttle.attempt("b") == 0  # other addresses are not affected
    clock.now += 800
    assert await throttle.attempt("a") == 0  # a new window


async def test_concurrent_attempts_are_counted_atomically(storage: Storage) -> None:
    throttle = LoginThrottle(storage.login_attempts, LIMITS, Clock())
    waits = await asyncio.gather(*(throttle.attempt("a") for _ in range(40)))
    assert sum(1 for w in waits if w == 0) == LIMITS.per_address


async def test_two_processes_share_the_counts(storage: Storage, storage_url: str) -> None:
    # A second Storage is what a second worker process has: its own engine, the same database.
    async with await open_storage(storage_url) as other:
        first = LoginThrottle(storage.login_attempts, LIMITS, Clock())
        second = LoginThrottle(other.login_attempts, LIMITS, Clock())
        waits = [await (first if i % 2 else second).attempt("a") for i in range(8)]
    assert waits.count(0) == LIMITS.per_address


async def test_success_clears_the_address(storage: Storage) -> None:
    throttle = LoginThrottle(storage.login_attempts, LIMITS, Clock())
    for _ in range(4):
        await throttle.attempt("a")
    await throttle.succeeded("a")
    assert [await throttle.attempt("a") for _ in range(5)] == [0] * 5


async def test_global_limit_catches_spread_out_attackers_but_not_a_known_good_address(storage: Storage) -> None:
    clock = Clock()
    throttle = LoginThrottle(storage.login_attempts, LIMITS, clock)
    await throttle.attempt("192.0.2.9")
    await throttle.succeeded("192.0.2.9")  # the real admin logged in from here once
    for i in range(LIMITS.overall - 1):  # the admin's own attempt counted once too
        assert await throttle.attempt(f"10.0.0.{i}") == 0
    assert await throttle.attempt("10.0.1.1") > 0
    assert await throttle.attempt("198.51.100.7") > 0  # a new address waits too
    assert await throttle.attempt("192.0.2.9") == 0  # the admin's own address still gets in


async def test_clear_lifts_every_lockout(storage: Storage) -> None:
    throttle = LoginThrottle(storage.login_attempts, LIMITS, Clock())
    for _ in range(7):
        await throttle.attempt("a")
    assert await throttle.attempt("a") > 0
    assert await storage.login_attempts.clear() >= 1
    assert await throttle.attempt("a") == 0


async def test_prune_keeps_known_good_markers_longer(storage: Storage) -> None:
    clock = Clock()
    throttle = LoginThrottle(storage.login_attempts, LIMITS, clock)
    await throttle.attempt("a")
    await throttle.succeeded("b")
    await storage.login_attempts.prune(int(clock.now) + 1000, markers_before=int(clock.now))
    assert await storage.login_attempts.active(0) == {"good:b": 1}
