"""The Anthropic surface: /v1/messages (also under /anthropic) and count_tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.core.events import Event, Finished, close_stream
from ollama_gateway.core.ids import random_hex
from ollama_gateway.core.requests import ChatRequest
from ollama_gateway.core.usage import Usage
from ollama_gateway.protocols.anthropic import (
    MessagesStreamEncoder,
    count_tokens,
    decode_messages,
    encode_message,
    error_body,
    estimate_input_tokens,
)
from ollama_gateway.service.catalog import ResolvedModel
from ollama_gateway.service.pipeline import chat_events, inline_images
from ollama_gateway.web.context import RequestContext, Surface, endpoint, json_response
from ollama_gateway.web.dropped import leniency, report_dropped
from ollama_gateway.web.generation import respond, start

ANTHROPIC = Surface("anthropic", error_body)


@endpoint(ANTHROPIC, "/v1/messages")
async def messages(ctx: RequestContext) -> Response:
    """A Messages API turn, streamed as Anthropic events or answered as one message."""
    await ctx.authenticate()
    request, options = decode_messages(await ctx.json(), leniency(ctx.gateway.settings))
    resolved, controls = await start(ctx, request.model, request.controls, stream=request.stream)
    messages = await inline_images(request.messages, ctx.gateway.images)
    request = _relax_thinking(request.bound_for(resolved.upstream, controls, messages), resolved)
    estimate = estimate_input_tokens(request)
    message_id = "msg_" + random_hex(12)
    time_limit = ctx.gateway.time_limit_seconds(controls.timeout_ms)
    events = _with_prompt_estimate(
        chat_events(
            ctx.gateway.upstream,
            request,
            time_limit=time_limit,
            prompt_estimate=estimate,
            placement=ctx.placement(request.messages),
        ),
        estimate,
    )
    response = await respond(
        ctx,
        events,
        stream=request.stream,
        encoder=lambda: MessagesStreamEncoder(
            message_id=message_id, model=resolved.requested, options=options, input_tokens_estimate=estimate
        ),
        body=lambda result: encode_message(result, message_id=message_id, model=resolved.requested, options=options),
    )
    return report_dropped(ctx, response, options.dropped)


@endpoint(ANTHROPIC, "/v1/messages/count_tokens")
async def messages_count_tokens(ctx: RequestContext) -> Response:
    """An estimate of a request's input tokens (see docs/compat-anthropic.md for the formula)."""
    key = await ctx.authenticate()
    body = await ctx.json()
    counted = count_tokens(body, leniency(ctx.gateway.settings))
    await ctx.gateway.catalog.resolve_fresh(str(body.get("model")), key)
    return json_response(counted)


def _relax_thinking(request: ChatRequest, resolved: ResolvedModel) -> ChatRequest:
    # Claude clients send thinking settings routinely; like Ollama's own Anthropic layer, a model that cannot
    # think answers without thinking instead of failing.
    capabilities = resolved.record.capabilities
    if request.controls.think not in (None, False) and capabilities and "thinking" not in capabilities:
        return replace(request, controls=replace(request.controls, think=None))
    return request


async def _with_prompt_estimate(events: AsyncIterator[Event], estimate: int) -> AsyncIterator[Event]:
    # Ollama leaves prompt_eval_count out when it is zero (for example a fully cached prompt).
    try:
        async for event in events:
            if isinstance(event, Finished) and event.usage.prompt_tokens == 0:
                event = replace(event, usage=Usage(estimate, event.usage.completion_tokens))
            yield event
    finally:
        await close_stream(events)


def routes() -> list[Route]:
    """The Anthropic routes, at /v1 and under the /anthropic prefix."""
    out: list[Route] = []
    for prefix in ("", "/anthropic"):
        out.append(Route(prefix + "/v1/messages", messages, methods=["POST"]))
        out.append(Route(prefix + "/v1/messages/count_tokens", messages_count_tokens, methods=["POST"]))
    return out
