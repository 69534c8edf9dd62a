"""Key limit rules: window arithmetic, Retry-After, and the rpm / tpm / budget decisions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ollama_gateway.errors import RateLimitError
from ollama_gateway.policy.limits import (
    BUDGET_CODE,
    BUDGET_RETRY_AFTER,
    RATE_LIMIT_CODE,
    check_budget,
    check_requests,
    check_tokens,
    has_limits,
    retry_after,
    rpm_bucket,
    tpm_bucket,
    tracks_tokens,
    window_start,
)


@dataclass(frozen=True)
class Key:
    id: str = "key_1"
    rpm: int | None = None
    tpm: int | None = None
    token_budget: int | None = None


@pytest.mark.parametrize(
    ("now", "start", "wait"),
    [
        (0.0, 0, 60),
        (59.999, 0, 1),
        (60.0, 60, 60),
        (61.0, 60, 59),
        (119.2, 60, 1),  # 0.8 s left rounds up to a whole second
        (90.5, 60, 30),  # 29.5 s left → 30
        (1_700_000_030.0, 1_700_000_040 - 60, 10),  # aligned to the epoch, not to the first request
    ],
)
def test_window_and_retry_after(now: float, start: int, wait: int) -> None:
    assert window_start(now) == start
    assert retry_after(now) == wait
    assert 1 <= retry_after(now) <= 60


def test_other_window_widths() -> None:
    assert window_start(125.0, width=10) == 120
    assert retry_after(125.0, width=10) == 5
    assert retry_after(129.99, width=10) == 1


def test_bucket_names() -> None:
    assert rpm_bucket("key_ab") == "rpm:key_ab"
    assert tpm_bucket("key_ab") == "tpm:key_ab"


@pytest.mark.parametrize(
    ("key", "limited", "tokens"),
    [
        (Key(), False, False),
        (Key(rpm=10), True, False),
        (Key(tpm=100), True, True),
        (Key(token_budget=1000), True, True),
        (Key(rpm=0), True, False),  # zero is a limit (nothing allowed), not "no limit"
    ],
)
def test_which_keys_need_counting(key: Key, limited: bool, tokens: bool) -> None:
    assert has_limits(key) is limited
    assert tracks_tokens(key) is tokens


@pytest.mark.parametrize(
    ("count", "rpm", "allowed"),
    [(1, None, True), (10_000, None, True), (1, 3, True), (3, 3, True), (4, 3, False), (1, 0, False)],
)
def test_requests_per_minute(count: int, rpm: int | None, allowed: bool) -> None:
    if allowed:
        check_requests(count, rpm, now=30.0)
        return
    with pytest.raises(RateLimitError) as caught:
        check_requests(count, rpm, now=30.0)
    assert caught.value.retry_after == 30
    assert caught.value.code == RATE_LIMIT_CODE
    assert caught.value.http_status == 429
    assert f"{rpm} requests per minute" in caught.value.message


@pytest.mark.parametrize(
    ("used", "tpm", "allowed"),
    [(0, None, True), (99, 100, True), (100, 100, False), (250, 100, False), (0, 0, False)],
)
def test_tokens_per_minute(used: int, tpm: int | None, allowed: bool) -> None:
    if allowed:
        check_tokens(used, tpm, now=75.0)
        return
    with pytest.raises(RateLimitError) as caught:
        check_tokens(used, tpm, now=75.0)
    assert caught.value.retry_after == 45
    assert caught.value.code == RATE_LIMIT_CODE
    assert f"{tpm} tokens per minute" in caught.value.message


@pytest.mark.parametrize(
    ("used", "budget", "allowed"),
    [(0, None, True), (10**12, None, True), (999, 1000, True), (1000, 1000, False), (1500, 1000, False)],
)
def test_token_budget(used: int, budget: int | None, allowed: bool) -> None:
    if allowed:
        check_budget(used, budget)
        return
    with pytest.raises(RateLimitError) as caught:
        check_budget(used, budget)
    assert caught.value.code == BUDGET_CODE
    assert caught.value.retry_after == BUDGET_RETRY_AFTER  # waiting a window would not help
    assert "budget exhausted" in caught.value.message
    assert f"{used} of its {budget}" in caught.value.message
