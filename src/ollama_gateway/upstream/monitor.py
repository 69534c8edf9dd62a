"""Health of every host, owned by one loop per host: probes on a cadence, backoff, a circuit breaker each.

Each loop probes its host every `interval` seconds (`/api/version` and `/api/ps`; `/api/tags` every `tags_every`
rounds, and on the first round after the host was unreachable); after n failed probes it waits `interval * 2^n`
(capped), and never probes an open breaker before it half-opens: that probe decides whether it closes.
Request outcomes the fleet reports drive the same breaker. A change of reachability or breaker state is logged
once, when it happens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

from ollama_gateway.upstream.breaker import CircuitBreaker
from ollama_gateway.upstream.hosts import BreakerState, HostConfig, HostState

log = logging.getLogger("ollama_gateway.upstream.monitor")

MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe's findings; `models`/`loaded` None when not fetched this round."""

    reachable: bool
    version: str | None = None
    loaded: frozenset[str] | None = None
    models: frozenset[str] | None = None
    latency_ms: float | None = None
    error: str | None = None


ProbeFn = Callable[[HostConfig, bool], Awaitable[Probe]]
ChangeFn = Callable[[HostState, HostState], None]


def host_label(config: HostConfig) -> str:
    """The host's name for logs: its name, or its URL without any user or password in it."""
    if config.name:
        return config.name
    parts = urlsplit(config.url)
    if parts.username is None and parts.password is None:
        return config.url
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _significant(state: HostState) -> tuple[object, ...]:
    """What on_change reports: everything but the latency and error text, which change with every probe."""
    return (state.config, state.reachable, state.breaker, state.models, state.loaded, state.version)


class _Host:
    def __init__(self, config: HostConfig, breaker: CircuitBreaker) -> None:
        self.config = config
        self.breaker = breaker
        self.health = HostState(config=config)  # what the probes and request outcomes established
        self.reported: HostState | None = None  # the last snapshot passed to on_change
        self.snapshot: HostState | None = None  # the router's view, cached until something in it changes
        self.snapshot_of: HostState | None = None
        self.logged_reachable: bool | None = None  # the last reachability and breaker state logged
        self.logged_breaker: BreakerState = "closed"
        self.task: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.rounds = 0
        self.probe_failures = 0
        self.tags_due = True


class HostMonitor:
    """Keeps a HostState per host from periodic probes and reported request outcomes."""

    def __init__(
        self,
        probe: ProbeFn,
        *,
        interval: float = 5.0,
        tags_every: int = 6,
        on_change: ChangeFn | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        failure_threshold: int = 3,
        reset_seconds: float = 2.0,
        max_reset_seconds: float = 60.0,
        max_backoff: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        self._probe_fn = probe
        self.interval = interval
        self.tags_every = max(1, tags_every)
        self._on_change = on_change
        self._clock = clock
        self._sleep = sleep
        self._breaker_args = (failure_threshold, reset_seconds, max_reset_seconds)
        self.max_backoff = max_backoff
        self._hosts: dict[str, _Host] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._started = False

    # -- hosts and lifecycle ----------------------------------------------------------------------------------
    def set_hosts(self, configs: Iterable[HostConfig]) -> None:
        """Monitor exactly these hosts: loops start for new ones, stop for removed ones; changed configs apply."""
        wanted = {config.id: config for config in configs}
        for host_id in [h for h in self._hosts if h not in wanted]:
            self._drop(host_id)
        for config in wanted.values():
            entry = self._hosts.get(config.id)
            if entry is not None and (entry.config.url, entry.config.auth_header) != (config.url, config.auth_header):
                self._drop(config.id)  # another server behind the same id: start from scratch
                entry = None
            if entry is None:
                threshold, reset, max_reset = self._breaker_args
                entry = _Host(config, CircuitBreaker(threshold, reset, max_reset, clock=self._clock))
                self._hosts[config.id] = entry
                if self._started:
                    self._launch(entry)
            elif entry.config != config:
                entry.config = config
                entry.health = replace(entry.health, config=config)
                self._emit(entry)

    async def start(self) -> None:
        """Start a monitoring loop for every host (and for hosts added later)."""
        self._started = True
        for entry in self._hosts.values():
            if entry.task is None:
                self._launch(entry)

    async def close(self) -> None:
        """Stop every loop and wait for them to end."""
        self._started = False
        tasks = [e.task for e in self._hosts.values() if e.task is not None] + list(self._stopping)
        for entry in self._hosts.values():
            entry.task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._stopping.clear()

    def _launch(self, entry: _Host) -> None:
        entry.task = asyncio.get_running_loop().create_task(self._loop(entry), name=f"monitor:{entry.config.id}")

    def _drop(self, host_id: str) -> None:
        entry = self._hosts.pop(host_id)
        if entry.task is not None:
            entry.task.cancel()
            self._stopping.add(entry.task)
            entry.task.add_done_callback(self._stopping.discard)

    # -- reading ------------------------------------------------------------------------------------------------
    def state(self, host_id: str) -> HostState:
        """A snapshot of one host (in_flight 0: the fleet fills in the load); KeyError for an unknown id."""
        return self._snapshot(self._hosts[host_id])

    def states(self) -> list[HostState]:
        """Snapshots of every host, in the order they were configured."""
        return [self._snapshot(entry) for entry in self._hosts.values()]

    def _snapshot(self, entry: _Host) -> HostState:
        # Asked on every request: rebuilt only when the health, the config or the breaker's state changed.
        breaker = entry.breaker.state
        cached = entry.snapshot
        if (
            cached is None
            or entry.snapshot_of is not entry.health
            or cached.config is not entry.config
            or cached.breaker != breaker
        ):
            cached = replace(entry.health, config=entry.config, breaker=breaker, in_flight=0)
            entry.snapshot, entry.snapshot_of = cached, entry.health
        return cached

    # -- request outcomes -----------------------------------------------------------------------------------------
    def record_failure(self, host_id: str, error: str) -> None:
        """A request to the host failed (connect error, 5xx, timeout); an opening breaker marks it unreachable."""
        entry = self._hosts.get(host_id)
        if entry is None:
            return
        entry.breaker.record_failure()
        if entry.breaker.state == "open":
            entry.health = replace(entry.health, reachable=False, error=error)
        self._emit(entry)

    def record_success(self, host_id: str) -> None:
        """A request to the host succeeded: the failure count starts again (an open breaker waits for its probe)."""
        entry = self._hosts.get(host_id)
        if entry is None:
            return
        breaker = entry.breaker
        if breaker.failures == 0 and breaker.state == "closed":
            return  # the common case: nothing changes, nothing to report
        if breaker.state == "open":
            return
        breaker.record_success()
        self._emit(entry)

    def retry_after(self, host_id: str) -> float:
        """Seconds until the host's open breaker half-opens (0 when it is not open or unknown)."""
        entry = self._hosts.get(host_id)
        return entry.breaker.retry_after() if entry is not None else 0.0

    def try_probe(self, host_id: str) -> bool:
        """Claim the single probe of a half-open host (for a fleet that probes with a real request)."""
        entry = self._hosts.get(host_id)
        return entry is not None and entry.breaker.try_probe()

    # -- probing ------------------------------------------------------------------------------------------------
    async def probe_now(self, host_id: str) -> HostState:
        """Probe the host at once (outside its cadence) and return its new state; KeyError for an unknown id."""
        return await self._probe(self._hosts[host_id])

    async def _loop(self, entry: _Host) -> None:
        while True:
            await self._probe(entry)
            await self._sleep(self.delay_after(entry.probe_failures))
            # An open breaker is not probed before its reset time: that is the point of opening it.
            while (wait := entry.breaker.retry_after()) > 0:
                await self._sleep(wait)

    def delay_after(self, failures: int) -> float:
        """Seconds to the next probe after `failures` consecutive failed ones: interval * 2^n, capped."""
        if failures <= 0:
            return self.interval
        return min(self.interval * 2.0 ** min(failures, 30), self.max_backoff)

    async def _probe(self, entry: _Host) -> HostState:
        async with entry.lock:
            if entry.breaker.state == "half_open":
                entry.breaker.try_probe()
                self._emit(entry)  # logs the half-open state before its outcome
            fetch_tags = entry.tags_due or entry.rounds % self.tags_every == 0
            entry.rounds += 1
            try:
                result = await self._probe_fn(entry.config, fetch_tags)
            except Exception as exc:  # a probe that breaks is a failed probe, never a dead loop
                result = Probe(reachable=False, error=f"{type(exc).__name__}: {exc}")
            if self._hosts.get(entry.config.id) is entry:  # not removed or replaced meanwhile
                self._apply(entry, result)
                self._emit(entry)
            return self._snapshot(entry)

    def _apply(self, entry: _Host, result: Probe) -> None:
        health = entry.health
        if result.reachable:
            entry.probe_failures = 0
            entry.tags_due = entry.tags_due and result.models is None
            entry.health = replace(
                health,
                reachable=True,
                version=result.version if result.version is not None else health.version,
                models=result.models if result.models is not None else health.models,
                loaded=result.loaded if result.loaded is not None else health.loaded,
                latency_ms=result.latency_ms,
                error=None,
            )
            entry.breaker.record_success()
        else:
            entry.probe_failures += 1
            entry.tags_due = True  # it may come back as another server, with other models
            entry.health = replace(health, reachable=False, latency_ms=None, error=result.error or "unreachable")
            entry.breaker.record_failure()

    def _emit(self, entry: _Host) -> None:
        new = self._snapshot(entry)
        old, entry.reported = entry.reported, new
        self._log_transition(entry, new)
        before = old if old is not None else HostState(config=new.config)
        if self._on_change is not None and _significant(before) != _significant(new):
            try:
                self._on_change(before, new)
            except Exception:
                log.exception("on_change failed for host %s", host_label(new.config))

    def _log_transition(self, entry: _Host, new: HostState) -> None:
        """Log what changed since the last log line about this host: once per change, never per probe."""
        label = host_label(new.config)
        known = new.reachable or new.error is not None  # before the first probe nothing is known yet
        if known and new.reachable != entry.logged_reachable:
            entry.logged_reachable = new.reachable
            if new.reachable:
                log.info("ollama host %s is reachable (version %s)", label, new.version or "unknown")
            else:
                log.warning("ollama host %s is unreachable: %s", label, new.error)
        if new.breaker != entry.logged_breaker:
            before, entry.logged_breaker = entry.logged_breaker, new.breaker
            if before == "closed":
                log.warning("circuit breaker for %s opened after %d failures", label, entry.breaker.failures)
            elif new.breaker == "closed":
                log.info("circuit breaker for %s closed", label)
            else:  # the half-open cycle of a host that stays down: once per probe, so not above DEBUG
                log.debug("circuit breaker for %s is %s", label, new.breaker.replace("_", "-"))
