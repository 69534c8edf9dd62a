"""The OpenAI Responses API (`POST /v1/responses`), stateless, translated onto /api/chat like chat completions."""

from __future__ import annotations

import time

from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.core.ids import random_hex
from ollama_gateway.protocols.responses import ResponsesStreamEncoder, decode_response_request, encode_response
from ollama_gateway.service.pipeline import chat_events, inline_images
from ollama_gateway.web.context import RequestContext, endpoint
from ollama_gateway.web.dropped import leniency, report_dropped
from ollama_gateway.web.generation import respond, start
from ollama_gateway.web.routes.openai import OPENAI


@endpoint(OPENAI, "/v1/responses")
async def create_response(ctx: RequestContext) -> Response:
    """A Responses API turn, streamed as `response.*` events or answered as one response object."""
    await ctx.authenticate()
    request, options = decode_response_request(await ctx.json(), leniency(ctx.gateway.settings))
    resolved, controls = await start(ctx, request.model, request.controls, stream=request.stream)
    messages = await inline_images(request.messages, ctx.gateway.images)
    request = request.bound_for(resolved.upstream, controls, messages)
    response_id, created = "resp_" + random_hex(16), int(time.time())
    exclude = bool(controls.exclude_reasoning)
    response = await respond(
        ctx,
        chat_events(
            ctx.gateway.upstream,
            request,
            time_limit=ctx.gateway.time_limit_seconds(controls.timeout_ms),
            placement=ctx.placement(request.messages),
        ),
        stream=request.stream,
        encoder=lambda: ResponsesStreamEncoder(
            response_id, created, resolved.requested, options, exclude_reasoning=exclude
        ),
        body=lambda result: encode_response(
            result,
            response_id=response_id,
            created_at=created,
            model=resolved.requested,
            options=options,
            exclude_reasoning=exclude,
        ),
    )
    return report_dropped(ctx, response, options.dropped)


def routes() -> list[Route]:
    """The Responses API route."""
    return [Route("/v1/responses", create_response, methods=["POST"])]
