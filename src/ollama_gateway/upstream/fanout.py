"""Calls that are not one request on one host: asking every host, the first that answers, a pull onto several
hosts at once, and a host's health probe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from ollama_gateway.errors import GatewayError
from ollama_gateway.upstream.monitor import Probe
from ollama_gateway.upstream.port import HostPort, PullProgress
from ollama_gateway.upstream.routing import canonical_model, retryable

T = TypeVar("T")


async def merged_pull(targets: Sequence[HostPort], model: str) -> AsyncIterator[PullProgress]:
    """Pull `model` onto every target at once; their progress interleaved as it comes, a host's failure as its
    own `{"error": ...}` progress."""
    if len(targets) == 1:
        async for progress in targets[0].pull(model):
            yield progress
        return
    merged: asyncio.Queue[PullProgress | None] = asyncio.Queue()

    async def feed(target: HostPort) -> None:
        try:
            async for progress in target.pull(model):
                await merged.put(progress)
        except GatewayError as exc:
            await merged.put(PullProgress(target.config.id, {"error": exc.message}))
        finally:
            await merged.put(None)

    feeders = [asyncio.create_task(feed(t)) for t in targets]
    try:
        remaining = len(feeders)
        while remaining:
            item = await merged.get()
            if item is None:
                remaining -= 1
            else:
                yield item
    finally:
        for feeder in feeders:
            feeder.cancel()


async def probe(host: HostPort, with_tags: bool) -> Probe:
    """One health probe: `/api/version` (timed), `/api/ps`, and `/api/tags` when asked."""
    started = time.perf_counter()
    try:
        version = await host.version()
        latency = (time.perf_counter() - started) * 1000
        loaded = frozenset(canonical_model(str(m.get("name") or m.get("model"))) for m in await host.running())
        models = None
        if with_tags:
            models = frozenset(canonical_model(str(m.get("name") or m.get("model"))) for m in await host.models())
    except GatewayError as exc:
        return Probe(reachable=False, version=None, loaded=None, models=None, latency_ms=None, error=exc.message)
    return Probe(
        reachable=True,
        version=str(version.get("version", "")) or None,
        loaded=loaded,
        models=models,
        latency_ms=latency,
        error=None,
    )


async def everywhere(
    hosts: Sequence[HostPort], call: Callable[[HostPort], Awaitable[T]], no_host: Callable[[], GatewayError]
) -> list[tuple[HostPort, T]]:
    """Ask every host at once; the answers of those that gave one (the first error when none did)."""
    answers = await asyncio.gather(*(call(h) for h in hosts), return_exceptions=True)
    good = [(h, a) for h, a in zip(hosts, answers, strict=True) if not isinstance(a, BaseException)]
    if not good:
        errors = [a for a in answers if isinstance(a, GatewayError)]
        raise errors[0] if errors else no_host()
    return good


async def first_answer(
    hosts: Sequence[HostPort], call: Callable[[HostPort], Awaitable[T]], no_host: Callable[[], GatewayError]
) -> T:
    """Ask the hosts in turn until one answers; an error that another host would not change is raised at once."""
    error: GatewayError | None = None
    for host in hosts:
        try:
            return await call(host)
        except GatewayError as exc:
            if not retryable(exc):
                raise
            error = exc
    raise error or no_host()
