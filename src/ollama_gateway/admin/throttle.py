"""Login throttling: after a few failures, per client address and overall, wait exponentially longer."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5  # per address before backoff starts
GLOBAL_FREE_FAILURES = 50  # across all addresses
MAX_BACKOFF_SECONDS = 15 * 60
FORGET_SECONDS = 30 * 60
_MAX_TRACKED = 10_000


@dataclass(slots=True)
class _Record:
    failures: int = 0
    last_failure: float = 0.0


def _backoff(failures: int, free: int) -> float:
    if failures < free:
        return 0.0
    return float(min(MAX_BACKOFF_SECONDS, 2 ** (failures - free + 1)))


class LoginThrottle:
    """Counts failed logins per address and overall; answers how long a new attempt must wait."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_address: dict[str, _Record] = {}
        self._global = _Record()

    def retry_after(self, address: str) -> int:
        """Seconds until `address` may try again (0: now)."""
        now = self._clock()
        self._expire(now)
        waits = [self._wait(self._global, GLOBAL_FREE_FAILURES, now)]
        record = self._by_address.get(address)
        if record is not None:
            waits.append(self._wait(record, FREE_FAILURES, now))
        return math.ceil(max(waits))

    def failed(self, address: str) -> None:
        """Note a failed attempt from `address`."""
        now = self._clock()
        if len(self._by_address) >= _MAX_TRACKED and address not in self._by_address:
            self._by_address.clear()  # memory stays bounded; the global counter still holds the line
        record = self._by_address.setdefault(address, _Record())
        for target in (record, self._global):
            target.failures += 1
            target.last_failure = now

    def succeeded(self, address: str) -> None:
        """A correct password from `address` clears its own count (not the global one)."""
        self._by_address.pop(address, None)

    def _wait(self, record: _Record, free: int, now: float) -> float:
        return max(0.0, record.last_failure + _backoff(record.failures, free) - now)

    def _expire(self, now: float) -> None:
        if self._global.failures and now - self._global.last_failure > FORGET_SECONDS:
            self._global = _Record()
        stale = [a for a, r in self._by_address.items() if now - r.last_failure > FORGET_SECONDS]
        for address in stale:
            del self._by_address[address]
