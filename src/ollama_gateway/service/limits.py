"""Enforcing key limits against counters in the database, which every worker process and replica shares."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter

from ollama_gateway.errors import DependencyUnavailableError
from ollama_gateway.policy.limits import (
    WINDOW_SECONDS,
    budget_period_start,
    budget_resets_in,
    check_budget,
    check_requests,
    check_tokens,
    has_limits,
    rpm_bucket,
    tpm_bucket,
    tracks_tokens,
    window_start,
)
from ollama_gateway.storage.counters import CounterStore
from ollama_gateway.storage.keys import KeyRecord, KeyStore

log = logging.getLogger(__name__)

K = TypeVar("K")

DEFAULT_PRUNE_SECONDS = 300.0
DEFAULT_DEGRADED_SECONDS = 60.0

_DEGRADED: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = weakref.WeakKeyDictionary()


def degraded_counter(registry: CollectorRegistry | None = None) -> Counter:
    """`gateway_limiter_degraded_total`: requests admitted on this process's own counts (database away)."""
    target = REGISTRY if registry is None else registry
    counter = _DEGRADED.get(target)
    if counter is None:
        counter = Counter(
            "gateway_limiter_degraded_total",
            "Requests whose key limits were checked on this process's own counts because the database was away.",
            registry=target,
        )
        _DEGRADED[target] = counter
    return counter


class KeyLimiter:
    """Admits requests under a key's rpm, tpm and token budget, and charges spent tokens off the request path.

    Requests are counted with one atomic upsert per admitted request, so N processes sharing a database admit
    exactly `rpm` requests per window between them. Tokens are only known when a request ends; `charge` queues
    them and a background task owned by the limiter writes them, batched per key and window. Until written,
    queued tokens still count against this process's own checks.

    While the database is away the limiter degrades, for at most `degraded_seconds`, to this process's own
    share: the last rpm count it saw plus the requests it admitted since, its unwritten tokens, and the cached
    key's budget. Each process then enforces the limits alone (N processes may admit up to N times the rpm);
    past the bound, requests with limits get a 503 until the database answers again.
    """

    def __init__(
        self,
        counters: CounterStore,
        keys: KeyStore,
        *,
        clock: Callable[[], float] = time.time,
        prune_seconds: float = DEFAULT_PRUNE_SECONDS,
        degraded_seconds: float = DEFAULT_DEGRADED_SECONDS,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._counters = counters
        self._keys = keys
        self._clock = clock
        self._prune_seconds = prune_seconds
        self._last_prune: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer: asyncio.Task[None] | None = None
        self._unwritten_tpm: dict[tuple[str, int], int] = defaultdict(int)
        self._unwritten_used: dict[str, int] = defaultdict(int)
        self._closed = False
        self._degraded_seconds = degraded_seconds
        self._degraded_since: float | None = None
        self._degraded = degraded_counter(registry)
        # key id → (window, requests): the last shared rpm count seen, then this process's own hits on top.
        self._rpm_seen: dict[str, tuple[int, int]] = {}

    @property
    def pending_tokens(self) -> int:
        """Tokens charged but not yet added to the keys' totals."""
        return sum(self._unwritten_used.values())

    async def admit(self, key: KeyRecord) -> None:
        """Count this request against the key's limits; a RateLimitError (429) when one is reached."""
        if not has_limits(key):
            return
        now = self._clock()
        window = window_start(now)
        self._maybe_prune(now)
        try:
            await self._admit_shared(key, now, window)
        except DependencyUnavailableError:
            self._admit_locally(key, now, window)
            return
        if self._degraded_since is not None:
            self._degraded_since = None
            log.warning("key limiter: database reachable again; limits are shared again")

    @property
    def degraded(self) -> bool:
        """True while limits are enforced on this process's own counts."""
        return self._degraded_since is not None

    async def _admit_shared(self, key: KeyRecord, now: float, window: int) -> None:
        if key.token_budget is not None:
            # The cached key record may be seconds old; the budget is checked against the shared total.
            unwritten_used = self._unwritten_used.get(key.id, 0)  # read before the await, as for tpm below
            fresh = await self._keys.get(key.id) or key
            used = await self._period_used(fresh, now)
            resets_in = budget_resets_in(fresh.budget_period, datetime.fromtimestamp(now, UTC))
            check_budget(used + unwritten_used, fresh.token_budget, resets_in)
        if key.tpm is not None:
            # Local share first: if the writer moves it into the database during the read below, it is counted
            # twice for a moment (refusing early), never zero times (letting a request past the limit).
            unwritten = self._unwritten_tpm.get((key.id, window), 0)
            spent = await self._counters.get(tpm_bucket(key.id), window)
            check_tokens(spent + unwritten, key.tpm, now)
        if key.rpm is not None:
            count = await self._counters.hit(rpm_bucket(key.id), window)
            self._rpm_seen[key.id] = (window, count)
            check_requests(count, key.rpm, now)

    def _admit_locally(self, key: KeyRecord, now: float, window: int) -> None:
        if self._degraded_since is None:
            self._degraded_since = now
            log.warning(
                "key limiter: database unavailable; enforcing limits on this process's own counts for up to %.0fs",
                self._degraded_seconds,
            )
        if now - self._degraded_since >= self._degraded_seconds:
            raise DependencyUnavailableError(
                "the database is unavailable and this key's limits cannot be checked; retry shortly"
            )
        self._degraded.inc()
        if key.token_budget is not None:
            check_budget(key.tokens_used + self._unwritten_used.get(key.id, 0), key.token_budget)
        if key.tpm is not None:
            check_tokens(self._unwritten_tpm.get((key.id, window), 0), key.tpm, now)
        if key.rpm is not None:
            seen_window, seen = self._rpm_seen.get(key.id, (window, 0))
            count = (seen if seen_window == window else 0) + 1
            self._rpm_seen[key.id] = (window, count)
            check_requests(count, key.rpm, now)

    async def _period_used(self, key: KeyRecord, now: float) -> int:
        # A budget with a reset period starts again at zero when its period rolls over (one atomic update wins).
        start = budget_period_start(key.budget_period, datetime.fromtimestamp(now, UTC))
        if start is not None and (key.budget_period_start is None or key.budget_period_start < start):
            await self._keys.roll_budget_period(key.id, start)
            return 0
        return key.tokens_used

    def charge(self, key_id: str, tokens: int) -> None:
        """Add `tokens` to the key's current tpm window and its running total, written in the background."""
        if tokens <= 0:
            return
        if self._closed:
            log.warning("key limiter closed: %d tokens of key %s not charged", tokens, key_id)
            return
        self._unwritten_tpm[(key_id, window_start(self._clock()))] += tokens
        self._unwritten_used[key_id] += tokens
        if self._writer is None or self._writer.done():
            self._writer = self._spawn(self._write_unwritten(), "key-limiter-charge")

    def charge_key(self, key: KeyRecord | None, tokens: int) -> None:
        """Charge a finished request's tokens when the key has a limit they count against; otherwise do nothing."""
        if key is not None and tracks_tokens(key):
            self.charge(key.id, tokens)

    async def drain(self) -> None:
        """Wait for every background write and prune scheduled so far."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def close(self) -> None:
        """Stop accepting charges and write what is still queued."""
        if self._closed:
            return
        self._closed = True
        await self.drain()
        if self._unwritten_used or self._unwritten_tpm:
            await self._write_unwritten()  # a last try for what a failed round left behind

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _maybe_prune(self, now: float) -> None:
        if self._closed or (self._last_prune is not None and now - self._last_prune < self._prune_seconds):
            return
        self._last_prune = now
        # Keep the previous window too: replicas' clocks differ by a little.
        self._spawn(self._prune(window_start(now) - WINDOW_SECONDS), "key-limiter-prune")

    async def _prune(self, before: int) -> None:
        try:
            await self._counters.prune(before)
        except Exception:
            log.exception("pruning old rate windows failed")

    async def _write_unwritten(self) -> None:
        # Loops until nothing is queued, so charges arriving mid-write ride along; on failure the tokens stay
        # queued (still counted locally) for the next charge or close() to retry, without a busy loop.
        while self._unwritten_tpm or self._unwritten_used:
            try:
                for (key_id, window), tokens in list(self._unwritten_tpm.items()):
                    await self._counters.hit(tpm_bucket(key_id), window, tokens)
                    _subtract(self._unwritten_tpm, (key_id, window), tokens)
                for key_id, tokens in list(self._unwritten_used.items()):
                    await self._keys.add_tokens_used(key_id, tokens)
                    _subtract(self._unwritten_used, key_id, tokens)
            except Exception:
                log.exception("charging tokens failed; %d tokens kept for the next try", self.pending_tokens)
                return


def _subtract(amounts: dict[K, int], name: K, written: int) -> None:
    left = amounts.get(name, 0) - written
    if left > 0:
        amounts[name] = left
    else:
        amounts.pop(name, None)
