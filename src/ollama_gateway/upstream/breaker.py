"""A circuit breaker per host: consecutive failures open it, a single probe decides whether it closes again.

- closed → open: `failure_threshold` consecutive failures (a success in between starts the count again).
- open → half_open: by itself, once the reset time has passed (read from an injectable clock).
- half_open → closed on a success; half_open → open on a failure, with the reset time doubled (up to
  `max_reset_seconds`). The reset time returns to `reset_seconds` on the first success.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ollama_gateway.upstream.hosts import BreakerState


class CircuitBreaker:
    """Decides whether a host may take requests, from the outcomes of the last ones."""

    def __init__(
        self,
        failure_threshold: int = 3,
        reset_seconds: float = 2.0,
        max_reset_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_seconds <= 0 or max_reset_seconds < reset_seconds:
            raise ValueError("need 0 < reset_seconds <= max_reset_seconds")
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.max_reset_seconds = max_reset_seconds
        self._clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._reset = reset_seconds
        self._half_open_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """`closed`, `open`, or `half_open` once an open breaker's reset time has passed."""
        if self._state == "open" and self._clock() >= self._half_open_at:
            self._state = "half_open"
            self._probing = False
        return self._state

    @property
    def failures(self) -> int:
        """Consecutive failures recorded since the last success."""
        return self._failures

    @property
    def current_reset_seconds(self) -> float:
        """How long the breaker stays open the next (or current) time it opens."""
        return self._reset

    def record_success(self) -> None:
        """A request or probe succeeded: close, and forget the failures and the backoff."""
        self._state = "closed"
        self._failures = 0
        self._reset = self.reset_seconds
        self._probing = False

    def record_failure(self) -> None:
        """A request or probe failed (connect error, 5xx, timeout)."""
        self._failures += 1
        state = self.state
        if state == "half_open":
            self._open(min(self._reset * 2, self.max_reset_seconds))
        elif state == "closed" and self._failures >= self.failure_threshold:
            self._open(self._reset)

    def try_probe(self) -> bool:
        """In half_open, True for exactly one caller until that probe's outcome is recorded; otherwise False."""
        if self.state != "half_open" or self._probing:
            return False
        self._probing = True
        return True

    def retry_after(self) -> float:
        """Seconds until an open breaker half-opens; 0 when it is not open."""
        if self.state != "open":
            return 0.0
        return max(0.0, self._half_open_at - self._clock())

    def _open(self, reset: float) -> None:
        self._state = "open"
        self._reset = reset
        self._half_open_at = self._clock() + reset
        self._probing = False

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, failures={self._failures}, reset={self._reset})"
