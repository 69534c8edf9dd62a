"""The login throttle's backoff, per address and overall, with a fake clock."""

from __future__ import annotations

from ollama_gateway.admin.throttle import FREE_FAILURES, GLOBAL_FREE_FAILURES, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_per_failure_after_the_free_ones() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(FREE_FAILURES - 1):
        throttle.failed("a")
    assert throttle.retry_after("a") == 0
    throttle.failed("a")
    assert throttle.retry_after("a") == 2
    throttle.failed("a")
    assert throttle.retry_after("a") == 4
    clock.now += 4
    assert throttle.retry_after("a") == 0
    assert throttle.retry_after("b") == 0  # other addresses are not affected


def test_success_clears_the_address() -> None:
    throttle = LoginThrottle(Clock())
    for _ in range(FREE_FAILURES):
        throttle.failed("a")
    throttle.succeeded("a")
    assert throttle.retry_after("a") == 0


def test_global_backoff_catches_spread_out_attackers() -> None:
    throttle = LoginThrottle(Clock())
    for i in range(GLOBAL_FREE_FAILURES):
        throttle.failed(f"10.0.0.{i}")
    assert throttle.retry_after("192.0.2.1") > 0


def test_old_failures_are_forgotten() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(FREE_FAILURES + 3):
        throttle.failed("a")
    clock.now += 3600
    assert throttle.retry_after("a") == 0
