"""Budget periods as pure rules: where a period starts and ends, and what counts against the budget now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ollama_gateway.errors import RateLimitError
from ollama_gateway.policy.limits import (
    budget_period_start,
    budget_resets_in,
    check_budget,
    next_budget_period,
    period_tokens_used,
)

NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("daily", datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC)),
        ("weekly", datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC)),
        ("monthly", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_period_bounds(period: str, start: datetime, end: datetime) -> None:
    assert budget_period_start(period, NOW) == start
    assert next_budget_period(period, start) == end


def test_lifetime_has_no_period() -> None:
    assert budget_period_start(None, NOW) is None
    assert period_tokens_used(70, None, None, NOW) == 70


def test_tokens_count_only_within_the_current_period() -> None:
    assert period_tokens_used(70, "daily", datetime(2026, 12, 2, tzinfo=UTC), NOW) == 70
    assert period_tokens_used(70, "daily", datetime(2026, 12, 1, tzinfo=UTC), NOW) == 0
    assert period_tokens_used(70, "monthly", None, NOW) == 0


def test_unknown_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="hourly"):
        budget_period_start("hourly", NOW)
    with pytest.raises(ValueError, match="hourly"):
        next_budget_period("hourly", NOW)


def test_an_exhausted_periodic_budget_says_when_it_resets() -> None:
    resets_in = budget_resets_in("daily", NOW)
    assert resets_in == 8.5 * 3600
    with pytest.raises(RateLimitError, match="resets in 30600 s") as caught:
        check_budget(100, 100, resets_in)
    assert caught.value.retry_after == 30600
    assert budget_resets_in(None, NOW) is None
    check_budget(99, 100, resets_in)
