"""Calls that are not one request on one host: a pull onto several hosts at once, and a host's health probe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence

from ollama_gateway.errors import GatewayError
from ollama_gateway.upstream.monitor import Probe
from ollama_gateway.upstream.port import HostPort, PullProgress
from ollama_gateway.upstream.routing import canonical_model


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
