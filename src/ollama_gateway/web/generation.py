"""The shared tail of every generating endpoint: forward, then stream frames or fold into one body."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import Response

from ollama_gateway.core.events import Event
from ollama_gateway.core.requests import GenerationControls
from ollama_gateway.core.results import ChatResult, afold
from ollama_gateway.policy.overrides import merge_controls
from ollama_gateway.protocols.base import StreamEncoder
from ollama_gateway.service.catalog import ResolvedModel
from ollama_gateway.web.context import RequestContext, json_response
from ollama_gateway.web.streaming import EventStreamResponse, prefetch, until_disconnect


async def start(
    ctx: RequestContext, model: str, controls: GenerationControls, *, stream: bool = False
) -> tuple[ResolvedModel, GenerationControls]:
    """Begin tracking, apply the key's limits, resolve the model and merge its overrides (request > model > default).

    The exchange exists before the model is resolved, so unknown models, refusals and limits are recorded too.
    """
    ctx.extensions["model"] = model
    exchange = await ctx.begin(stream=stream)
    exchange.model_requested = model
    await ctx.admit()
    resolved = await ctx.gateway.catalog.resolve_fresh(model, ctx.key)
    exchange.model_upstream = resolved.upstream
    return resolved, merge_controls(controls, resolved.record.overrides, ctx.gateway.defaults)


# How long a stream waits for Ollama's first chunk before committing to a 200 and streaming keep-alives.
FIRST_CHUNK_GRACE_SECONDS = 1.0


async def respond(
    ctx: RequestContext,
    events: AsyncIterator[Event],
    *,
    stream: bool,
    encoder: Callable[[], StreamEncoder],
    body: Callable[[ChatResult], dict[str, Any]],
) -> Response:
    """Stream `events` through the encoder, or fold them and encode one body: one event source, two shapes."""
    exchange = ctx.exchange
    assert exchange is not None, "begin() the exchange before responding"
    if stream:
        grace = min(FIRST_CHUNK_GRACE_SECONDS, ctx.gateway.settings.ping_interval_sec)
        started = await until_disconnect(
            ctx.request.scope, ctx.request.receive, prefetch(events, grace, ctx.dispatched)
        )
        return EventStreamResponse(
            started,
            encoder(),
            headers=ctx.headers,
            on_outcome=exchange.finish,
            observe=exchange.note,
            idle_seconds=ctx.gateway.settings.ping_interval_sec,
            cancel_requested=lambda: ctx.cancel_requested,
            cancel_error=ctx.cancel_error,
            settle=ctx.gateway.settle_usage,
        )
    result = await until_disconnect(ctx.request.scope, ctx.request.receive, afold(events, exchange.note))
    payload = body(result)
    if ctx.gateway.settings.usage_durability == "sync":  # the row is written before the response completes
        exchange.finish(None)
        return json_response(payload, headers=ctx.headers)
    # The answer goes out first; its usage row, task state and metrics are recorded right after it was sent.
    return json_response(payload, headers=ctx.headers, then=lambda: exchange.finish(None))
