"""Key limits as pure rules: fixed 60-second windows for requests and tokens per minute, and a token budget.

Windows are aligned to the Unix epoch (`window_start = floor(now / 60) * 60`), so every process and replica
that shares the counters agrees on which window a moment belongs to without talking to the others.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Protocol

from ollama_gateway.errors import RateLimitError

WINDOW_SECONDS = 60
RATE_LIMIT_CODE = "rate_limit_exceeded"
BUDGET_CODE = "budget_exhausted"
# Waiting does not refill a budget (only an operator can), but a 429 always carries Retry-After: a day says
# "not soon" to clients that honour it, instead of inviting a retry storm.
BUDGET_RETRY_AFTER = 86_400


class LimitedKey(Protocol):
    """The parts of a key the rules read (an API key record fits)."""

    @property
    def id(self) -> str:
        """The key's public id."""
        ...

    @property
    def rpm(self) -> int | None:
        """Requests per minute, or None for no limit."""
        ...

    @property
    def tpm(self) -> int | None:
        """Tokens per minute, or None for no limit."""
        ...

    @property
    def token_budget(self) -> int | None:
        """Total tokens the key may ever use, or None for no budget."""
        ...


def rpm_bucket(key_id: str) -> str:
    """The counter bucket holding a key's requests per window."""
    return f"rpm:{key_id}"


def tpm_bucket(key_id: str) -> str:
    """The counter bucket holding a key's tokens per window."""
    return f"tpm:{key_id}"


def window_start(now: float, width: int = WINDOW_SECONDS) -> int:
    """The start (Unix seconds) of the window that `now` falls in."""
    return math.floor(now / width) * width


def retry_after(now: float, width: int = WINDOW_SECONDS) -> int:
    """Whole seconds until the current window ends, at least 1."""
    remaining = window_start(now, width) + width - now
    return max(1, math.ceil(remaining))


def has_limits(key: LimitedKey) -> bool:
    """True when any limit is set, so admitting a request needs the shared counters at all."""
    return key.rpm is not None or key.tpm is not None or key.token_budget is not None


def tracks_tokens(key: LimitedKey) -> bool:
    """True when the key's spent tokens matter to a limit (tokens per minute or a budget)."""
    return key.tpm is not None or key.token_budget is not None


def check_requests(count: int, rpm: int | None, now: float) -> None:
    """Deny when `count` (this request included) exceeds the requests-per-minute limit."""
    if rpm is not None and count > rpm:
        raise RateLimitError(
            f"rate limit reached: this key allows {rpm} requests per minute",
            retry_after=retry_after(now),
            code=RATE_LIMIT_CODE,
        )


def check_tokens(used: int, tpm: int | None, now: float) -> None:
    """Deny when the tokens already spent in this window reach the tokens-per-minute limit."""
    if tpm is not None and used >= tpm:
        raise RateLimitError(
            f"rate limit reached: this key allows {tpm} tokens per minute",
            retry_after=retry_after(now),
            code=RATE_LIMIT_CODE,
        )


def check_budget(tokens_used: int, token_budget: int | None, resets_in: float | None = None) -> None:
    """Deny when the key has spent its whole token budget: until the period resets (`resets_in` seconds), or, for a
    lifetime budget, until the operator raises it, which the message says."""
    if token_budget is not None and tokens_used >= token_budget:
        if resets_in is not None:
            wait = max(1, math.ceil(resets_in))
            raise RateLimitError(
                f"token budget exhausted: this key has used {tokens_used} of its {token_budget} tokens for this "
                f"period; it resets in {wait} s",
                retry_after=wait,
                code=BUDGET_CODE,
            )
        raise RateLimitError(
            f"token budget exhausted: this key has used {tokens_used} of its {token_budget} tokens; "
            "ask the operator to raise the budget",
            retry_after=BUDGET_RETRY_AFTER,
            code=BUDGET_CODE,
        )


def budget_period_start(period: str | None, now: datetime) -> datetime | None:
    """The start (UTC midnight; Monday for weekly, the 1st for monthly) of the budget period `now` falls in."""
    if period is None:
        return None
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        return day
    if period == "weekly":
        return day - timedelta(days=day.weekday())
    if period == "monthly":
        return day.replace(day=1)
    raise ValueError(f"unknown budget period {period!r}")


def next_budget_period(period: str, start: datetime) -> datetime:
    """When the budget period beginning at `start` ends."""
    if period == "daily":
        return start + timedelta(days=1)
    if period == "weekly":
        return start + timedelta(days=7)
    if period == "monthly":
        if start.month == 12:
            return start.replace(year=start.year + 1, month=1)
        return start.replace(month=start.month + 1)
    raise ValueError(f"unknown budget period {period!r}")


def period_tokens_used(tokens_used: int, period: str | None, started: datetime | None, now: datetime) -> int:
    """Tokens counted against the budget now: the stored total, or 0 once its period has ended."""
    current = budget_period_start(period, now)
    if current is not None and (started is None or started < current):
        return 0
    return tokens_used


def budget_resets_in(period: str | None, now: datetime) -> float | None:
    """Seconds until the budget period containing `now` ends; None for a lifetime budget."""
    start = budget_period_start(period, now)
    if period is None or start is None:
        return None
    return (next_budget_period(period, start) - now).total_seconds()
