"""The upstream port over several Ollama hosts: route, queue when every candidate is busy, fail over before the
first byte, and keep each conversation on the host that has its prompt cached.

Generation calls (chat, generate, embed, relay) take a slot on one host; the other calls fan out or pick the first
host that can answer. Host health is the monitor's; load (in-flight counts) is kept here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.core.events import Event, close_stream
from ollama_gateway.core.requests import ChatRequest, EmbedRequest, GenerateRequest
from ollama_gateway.errors import GatewayError, NotFoundError, UpstreamStatusError, UpstreamUnavailableError
from ollama_gateway.settings import Settings
from ollama_gateway.upstream.affinity import AffinityTable, conversation_key
from ollama_gateway.upstream.fanout import everywhere, first_answer, merged_pull, probe
from ollama_gateway.upstream.hosts import HostConfig, HostState
from ollama_gateway.upstream.monitor import HostMonitor, Probe
from ollama_gateway.upstream.ollama_host import OllamaHost
from ollama_gateway.upstream.port import ANYWHERE, HostFactory, HostPort, Placement, PullProgress, RelayReply
from ollama_gateway.upstream.queue import FairQueue
from ollama_gateway.upstream.routing import canonical_model, host_fault, rank_hosts, retryable

log = logging.getLogger(__name__)

T = TypeVar("T")

PROBE_CONNECTIONS = 4  # pooled connections beyond a host's capacity: probes, listings, show, pull


class Fleet:
    """Several OllamaHosts behind one port."""

    def __init__(
        self, configs: Sequence[HostConfig], settings: Settings, host_factory: HostFactory | None = None
    ) -> None:
        self._settings = settings
        self._factory = host_factory or self._ollama_host
        self._configs: list[HostConfig] = list(configs)
        self._hosts: dict[str, HostPort] = {}
        self._in_flight: dict[str, int] = {}
        self._retired: list[HostPort] = []
        self.monitor = HostMonitor(
            self._probe, interval=settings.host_probe_seconds, tags_every=6, on_change=self._on_change
        )
        self.queue: FairQueue[HostPort] = FairQueue(settings.queue_max, settings.queue_timeout_seconds)
        self.affinity = AffinityTable()
        # What the metrics read: dispatches, affinity hits, failovers, outcomes per (host id, "ok" | "error"),
        # and a hook that hears how long each dispatch waited for a slot.
        self.affinity_hits = 0
        self.dispatched = 0
        self.failovers = 0
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.on_wait: Callable[[float], None] | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open each host's pool, probe every host once, then keep probing in the background."""
        await self.set_hosts(self._configs)
        await self.monitor.start()

    async def close(self) -> None:
        """Stop probing and close every pool."""
        await self.monitor.close()
        for host in [*self._hosts.values(), *self._retired]:
            await host.close()
        self._hosts.clear()
        self._retired.clear()

    async def set_hosts(self, configs: Sequence[HostConfig]) -> None:
        """Serve exactly these hosts from now on; requests in flight on a removed host finish there."""
        self._configs = list(configs)
        wanted = {c.id: c for c in configs}
        new = [c.id for c in configs if c.id not in self._hosts]
        for host_key in list(self._hosts):
            if host_key not in wanted or wanted[host_key].url != self._hosts[host_key].config.url:
                self._retire(self._hosts.pop(host_key))
        for config in configs:
            host = self._hosts.get(config.id)
            if host is None:
                host = self._factory(config)
                await host.start()
                self._hosts[config.id] = host
                self._in_flight.setdefault(config.id, 0)
            else:
                host.config = config
        self.monitor.set_hosts(list(configs))
        # New hosts are probed before they count, so requests are routed on facts; a slow host delays this by at
        # most the probe time limit.
        await asyncio.gather(*(self.monitor.probe_now(h) for h in new), return_exceptions=True)
        self.queue.notify()

    def _ollama_host(self, config: HostConfig) -> HostPort:
        # The pool always has room for every slot the queue hands out (plus probes and listings), so a request
        # never waits for a pooled connection: past its host's capacity it waits in the fair queue instead.
        pool = max(self._settings.upstream_max_connections, config.max_concurrent + PROBE_CONNECTIONS)
        return OllamaHost(config, connect_timeout=self._settings.upstream_connect_timeout, max_connections=pool)

    def _retire(self, host: HostPort) -> None:
        self.affinity.forget_host(host.config.id)
        if self._in_flight.get(host.config.id, 0) == 0:
            self._in_flight.pop(host.config.id, None)
            asyncio.get_running_loop().create_task(host.close())
        else:
            self._retired.append(host)

    # -- state ------------------------------------------------------------------------------------------------

    @property
    def configs(self) -> list[HostConfig]:
        """The hosts served now."""
        return list(self._configs)

    def states(self) -> list[HostState]:
        """Every host's state with its current load."""
        out = []
        for state in self.monitor.states():
            in_flight = self._in_flight.get(state.config.id, 0)
            out.append(state.with_load(in_flight))
        return out

    def host(self, ref: str) -> HostPort:
        """A host by id, name or URL; 404 when there is none."""
        for host in self._hosts.values():
            if ref in (host.config.id, host.config.name, host.config.url):
                return host
        raise NotFoundError(f"no Ollama host '{ref}'", param="host")

    # -- generation -------------------------------------------------------------------------------------------

    def chat(self, request: ChatRequest, *, time_limit: float, placement: Placement = ANYWHERE) -> AsyncIterator[Event]:
        """A chat on the best host for its model, failing over until the first event."""
        return self._events(request.model, placement, lambda h: h.chat(request, time_limit=time_limit))

    def generate(
        self, request: GenerateRequest, *, time_limit: float, placement: Placement = ANYWHERE
    ) -> AsyncIterator[Event]:
        """A completion on the best host for its model."""
        return self._events(request.model, placement, lambda h: h.generate(request, time_limit=time_limit))

    async def embed(self, request: EmbedRequest, *, time_limit: float, placement: Placement = ANYWHERE) -> EmbedResult:
        """Embeddings on the best host for the model."""
        tried: set[str] = set()
        key = self._affinity_key(request.model, placement)
        while True:
            host = await self._dispatch(request.model, placement, tried, key)
            try:
                result = await host.embed(request, time_limit=time_limit)
            except GatewayError as error:
                self._outcome(host, error)
                if not retryable(error) or not self._has_candidates(request.model, tried | {host.config.id}):
                    raise
                tried.add(host.config.id)
                continue
            finally:
                self._release(host)
            self._outcome(host, None)
            return result

    async def _events(
        self, model: str, placement: Placement, start: Callable[[HostPort], AsyncIterator[Event]]
    ) -> AsyncIterator[Event]:
        tried: set[str] = set()
        key = self._affinity_key(model, placement)
        while True:
            host = await self._dispatch(model, placement, tried, key)
            events = start(host)
            error: GatewayError | None = None
            try:
                try:
                    first = await anext(events)
                except StopAsyncIteration:
                    return
                except GatewayError as exc:
                    error = exc
                    if retryable(exc) and self._has_candidates(model, tried | {host.config.id}):
                        tried.add(host.config.id)
                        continue
                    raise
                if key is not None:
                    self.affinity.put(key, host.config.id)
                yield first
                async for event in events:
                    yield event
                return
            except GatewayError as exc:
                error = exc
                raise
            finally:
                self._outcome(host, error)
                await close_stream(events)
                self._release(host)

    @contextlib.asynccontextmanager
    async def relay(
        self, path: str, body: bytes, *, model: str, time_limit: float | None, placement: Placement = ANYWHERE
    ) -> AsyncIterator[RelayReply]:
        """A native call on the best host for `model`; a 5xx before any byte is retried on the next host."""
        tried: set[str] = set()
        key = self._affinity_key(model, placement)
        while True:
            host = await self._dispatch(model, placement, tried, key)
            handed = False
            try:
                async with host.relay(path, body, model=model, time_limit=time_limit) as reply:
                    more = self._has_candidates(model, tried | {host.config.id})
                    if reply.status >= 500 and more:
                        self._outcome(host, UpstreamStatusError(reply.status, "relay"))
                        tried.add(host.config.id)
                        continue
                    if key is not None:
                        self.affinity.put(key, host.config.id)
                    handed = True
                    yield reply
                self._outcome(host, None)
                return
            except GatewayError as error:
                self._outcome(host, error)
                if handed or not retryable(error) or not self._has_candidates(model, tried | {host.config.id}):
                    raise
                tried.add(host.config.id)
            finally:
                self._release(host)

    # -- slots ------------------------------------------------------------------------------------------------

    async def _dispatch(self, model: str, placement: Placement, tried: set[str], key: str | None) -> HostPort:
        """A slot on the best candidate host, waiting in the fair queue while every candidate is full."""
        affinity = self.affinity.get(key) if key else None
        ranked: list[HostState] | None = self._ranked(model, tried, affinity)
        if not ranked:
            await self._probe_unreachable()
            ranked = self._ranked(model, tried, affinity)
            if not ranked:
                raise self._no_host(model)

        def take() -> HostPort | None:
            nonlocal ranked  # the ranking just made serves the first try; later tries (from the queue) rank anew
            order, ranked = (ranked if ranked is not None else self._ranked(model, tried, affinity)), None
            for state in order:
                if state.free > 0:
                    self._in_flight[state.config.id] += 1
                    return self._hosts[state.config.id]
            return None

        waited = time.perf_counter()
        host = await self.queue.acquire(placement.owner, take, placement.on_queued, release=self._release)
        if self.on_wait is not None:
            self.on_wait(time.perf_counter() - waited)
        self.dispatched += 1
        if tried:
            self.failovers += 1
        if affinity is not None and host.config.id == affinity:
            self.affinity_hits += 1
        if placement.on_dispatched is not None:
            placement.on_dispatched()
        return host

    def _ranked(self, model: str, tried: set[str], affinity: str | None) -> list[HostState]:
        states = self.states()
        return rank_hosts(
            model, [s for s in states if s.config.id not in tried] if tried else states, affinity=affinity
        )

    def _affinity_key(self, model: str, placement: Placement) -> str | None:
        """The conversation's key, worked out only when there is more than one host to choose from."""
        if placement.affinity is not None:
            return placement.affinity
        if placement.conversation and len(self._hosts) > 1:
            return conversation_key(model, placement.conversation)
        return None

    def _release(self, host: HostPort) -> None:
        key = host.config.id
        self._in_flight[key] = max(0, self._in_flight.get(key, 1) - 1)
        if host in self._retired and self._in_flight[key] == 0:
            self._retired.remove(host)
            self._in_flight.pop(key, None)
            asyncio.get_running_loop().create_task(host.close())
        self.queue.notify()

    def _has_candidates(self, model: str, tried: set[str]) -> bool:
        return bool(self._ranked(model, tried, None))

    def _outcome(self, host: HostPort, error: GatewayError | None) -> None:
        self.outcomes[host.config.id, "ok" if error is None else "error"] += 1
        if error is None:
            self.monitor.record_success(host.config.id)
        elif host_fault(error):
            self.monitor.record_failure(host.config.id, error.message)

    async def _probe_unreachable(self) -> None:
        """Ask every host that is down whether it is back (a request is waiting on the answer)."""
        down = [s.config.id for s in self.monitor.states() if s.config.enabled and not s.routable]
        if down:
            await asyncio.gather(*(self.monitor.probe_now(h) for h in down), return_exceptions=True)

    def _no_host(self, model: str) -> GatewayError:
        states = [s for s in self.monitor.states() if s.config.enabled and not s.config.draining]
        if not states:
            return UpstreamUnavailableError("no Ollama host is configured or enabled")
        reasons = "; ".join(f"{s.config.label}: {s.error or s.breaker}" for s in states)
        waits = [self.monitor.retry_after(s.config.id) for s in states]
        return UpstreamUnavailableError(f"cannot reach Ollama ({reasons})", retry_after=max(1, math.ceil(min(waits))))

    # -- everything else --------------------------------------------------------------------------------------

    async def models(self) -> list[dict[str, Any]]:
        """The union of the reachable hosts' `/api/tags`, each model once (the first host's entry)."""
        answers = await self._everywhere(lambda h: h.models())
        merged: dict[str, dict[str, Any]] = {}
        for _, entries in answers:
            for entry in entries:
                merged.setdefault(canonical_model(str(entry.get("name") or entry.get("model"))), entry)
        return list(merged.values())

    async def running(self) -> list[dict[str, Any]]:
        """Every reachable host's loaded models."""
        return [entry for _, entries in await self._everywhere(lambda h: h.running()) for entry in entries]

    async def show(self, model: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """`/api/show` from a host that has the model."""
        return await self._first(model, lambda h: h.show(model, extra))

    async def version(self) -> dict[str, Any]:
        """`/api/version` of the first host that answers."""
        return await self._first("", lambda h: h.version())

    async def pull(self, model: str, *, host: str | None = None) -> AsyncIterator[PullProgress]:
        """Pull onto one host, or onto every enabled host at once; progress from all of them as it comes."""
        targets = [self.host(host)] if host else [h for h in self._hosts.values() if h.config.enabled]
        async for progress in merged_pull(targets, model):
            yield progress

    async def delete(self, model: str, *, host: str | None = None) -> dict[str, str]:
        """Delete from one host, or from every host that has the model."""
        if host:
            return await self.host(host).delete(model)
        targets = [
            self._hosts[s.config.id] for s in self.states() if s.reachable and canonical_model(model) in _names(s)
        ] or [h for h in self._hosts.values() if h.config.enabled]
        results: dict[str, str] = {}
        for target in targets:
            try:
                results.update(await target.delete(model))
            except GatewayError as exc:
                results[target.config.label] = exc.message
        if not any(v == "deleted" for v in results.values()):
            raise NotFoundError(f"model '{model}' not found on any host: {results}", param="model")
        return results

    async def _everywhere(self, call: Callable[[HostPort], Awaitable[T]]) -> list[tuple[HostPort, T]]:
        return await everywhere(self._answering(), call, lambda: self._no_host(""))

    async def _first(self, model: str, call: Callable[[HostPort], Awaitable[T]]) -> T:
        ranked = rank_hosts(model, self.states()) if model else []
        hosts = [self._hosts[s.config.id] for s in ranked] or self._answering()
        return await first_answer(hosts, call, lambda: self._no_host(model))

    def _answering(self) -> list[HostPort]:
        """Hosts worth asking: routable ones, else every enabled one (so a lone host's own error is reported)."""
        states = self.states()
        chosen = [s for s in states if s.routable] or [s for s in states if s.config.enabled]
        return [self._hosts[s.config.id] for s in chosen if s.config.id in self._hosts]

    async def _probe(self, config: HostConfig, with_tags: bool) -> Probe:
        host = self._hosts.get(config.id)
        if host is None:
            return Probe(reachable=False, version=None, loaded=None, models=None, latency_ms=None, error="removed")
        return await probe(host, with_tags)

    def _on_change(self, before: HostState, after: HostState) -> None:
        if after.routable and not before.routable:
            self.queue.notify()


def _names(state: HostState) -> frozenset[str]:
    return state.models | state.loaded
