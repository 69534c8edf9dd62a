"""Login throttling: attempts are counted before the password is checked, per address and overall, in the database.

Each attempt first adds itself, atomically, to its address's count for the current fixed window; only if that count
is within the limit is it added to the global count, and only if both are within their limits is the password
checked. So N concurrent guesses from one address get exactly `per_address` password checks, across every worker
process and replica sharing the database. A correct password forgets its address's count and marks the address as
known-good: known-good addresses are still limited per address, but not by the global limit, so an attacker
spraying from many addresses cannot lock the real admin out. `ollama-gateway admin unlock` clears every count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ollama_gateway.storage.login_attempts import LoginAttemptStore

GLOBAL_SCOPE = "global"
KNOWN_GOOD_DAYS = 30


def address_scope(address: str) -> str:
    """The counter scope of one client address."""
    return f"addr:{address}"


def good_scope(address: str) -> str:
    """The marker scope of an address that logged in successfully."""
    return f"good:{address}"


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    """Attempts allowed per window from one address and from all addresses together."""

    per_address: int = 5
    overall: int = 100
    window_seconds: int = 900


class LoginThrottle:
    """Admits or refuses a login attempt before its password is checked; state lives in the shared database."""

    def __init__(
        self, store: LoginAttemptStore, limits: ThrottleLimits, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock

    def _window(self, now: float) -> int:
        width = self._limits.window_seconds
        return math.floor(now / width) * width

    def _wait(self, now: float) -> int:
        return max(1, math.ceil(self._window(now) + self._limits.window_seconds - now))

    async def attempt(self, address: str) -> int:
        """Count one attempt from `address`; 0 when its password may be checked, else seconds to wait."""
        now = self._clock()
        window = self._window(now)
        (count,) = await self._store.hit([address_scope(address)], window)
        if count > self._limits.per_address:
            return self._wait(now)
        if await self._known_good(address, now):
            return 0
        (overall,) = await self._store.hit([GLOBAL_SCOPE], window)
        return self._wait(now) if overall > self._limits.overall else 0

    async def succeeded(self, address: str) -> None:
        """A correct password: forget the address's attempts and remember it as known-good."""
        await self._store.forget(address_scope(address))
        await self._store.hit([good_scope(address)], self._window(self._clock()))

    async def _known_good(self, address: str, now: float) -> bool:
        since = int(now) - KNOWN_GOOD_DAYS * 86_400
        return await self._store.seen(good_scope(address), since)
