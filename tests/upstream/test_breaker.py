"""The circuit breaker's transitions, backoff and single probe, on a fake clock."""

from __future__ import annotations

import pytest

from ollama_gateway.upstream.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_opens_after_consecutive_failures_only(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # breaks the run
    breaker.record_failure()
    breaker.record_failure()
    assert (breaker.state, breaker.failures, breaker.retry_after()) == ("closed", 2, 0.0)
    breaker.record_failure()
    assert breaker.state == "open"
    assert breaker.retry_after() == pytest.approx(2.0)


def test_half_opens_after_the_reset_time(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=2.0, clock=clock)
    breaker.record_failure()
    clock.now += 1.5
    assert (breaker.state, breaker.retry_after()) == ("open", pytest.approx(0.5))
    assert breaker.try_probe() is False  # no probing while open
    clock.now += 0.5
    assert (breaker.state, breaker.retry_after()) == ("half_open", 0.0)


def test_exactly_one_probe_until_its_outcome(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=clock)
    assert breaker.try_probe() is False  # closed: nothing to probe
    breaker.record_failure()
    clock.now += 2
    assert [breaker.try_probe() for _ in range(3)] == [True, False, False]
    breaker.record_success()
    assert (breaker.state, breaker.failures) == ("closed", 0)
    assert breaker.try_probe() is False


def test_failed_probe_reopens_with_doubled_reset_up_to_the_max(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=2.0, max_reset_seconds=10.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    seen = []
    for _ in range(5):
        seen.append(breaker.retry_after())
        clock.now += breaker.retry_after()
        assert breaker.state == "half_open" and breaker.try_probe()
        breaker.record_failure()  # one failed probe re-opens, no threshold in half_open
        assert breaker.state == "open"
    assert seen == [2.0, 4.0, 8.0, 10.0, 10.0]
    clock.now += 10
    assert breaker.try_probe() is True  # a new half-open period gives a new probe


def test_success_resets_the_backoff(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=2.0, clock=clock)
    breaker.record_failure()
    clock.now += 2
    breaker.record_failure()  # re-open: 4 s
    assert breaker.retry_after() == 4.0
    clock.now += 4
    breaker.record_success()
    assert (breaker.state, breaker.current_reset_seconds) == ("closed", 2.0)
    breaker.record_failure()
    assert breaker.retry_after() == 2.0


def test_failures_while_open_do_not_extend_it(clock: Clock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=2.0, clock=clock)
    breaker.record_failure()
    clock.now += 1
    breaker.record_failure()  # a request that started before it opened
    assert breaker.retry_after() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"failure_threshold": 0}, {"reset_seconds": 0}, {"reset_seconds": 5, "max_reset_seconds": 1}],
)
def test_rejects_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]


def test_repr_names_the_state(clock: Clock) -> None:
    assert "closed" in repr(CircuitBreaker(clock=clock))
