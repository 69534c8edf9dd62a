"""The OpenAI surface: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models."""

from __future__ import annotations

import time
from dataclasses import replace

from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.core.ids import random_hex
from ollama_gateway.protocols.openai import encode as oa_encode
from ollama_gateway.protocols.openai.decode import decode_chat, decode_completion, decode_embeddings
from ollama_gateway.protocols.openai.errors import error_body
from ollama_gateway.service.pipeline import chat_events, embed, generate_events, inline_generate_images, inline_images
from ollama_gateway.storage.models import ModelRecord
from ollama_gateway.web.context import RequestContext, Surface, endpoint, json_response
from ollama_gateway.web.generation import respond, start
from ollama_gateway.web.streaming import until_disconnect

OPENAI = Surface("openai", error_body)


def _completion_id(prefix: str) -> str:
    return f"{prefix}-{random_hex(12)}"


@endpoint(OPENAI, "/v1/chat/completions")
async def chat_completions(ctx: RequestContext) -> Response:
    """Chat, streamed as SSE chunks or answered as one chat.completion."""
    await ctx.authenticate()
    request, options = decode_chat(await ctx.json())
    resolved, controls = await start(ctx, request.model, request.controls, stream=request.stream)
    messages = await inline_images(request.messages, ctx.gateway.images)
    request = request.bound_for(resolved.upstream, controls, messages)
    completion_id, created, exclude = _completion_id("chatcmpl"), int(time.time()), bool(controls.exclude_reasoning)
    logprobs = bool(request.logprobs)
    return await respond(
        ctx,
        chat_events(
            ctx.gateway.upstream,
            request,
            time_limit=ctx.gateway.time_limit_seconds(controls.timeout_ms),
            placement=ctx.placement(request.messages),
        ),
        stream=request.stream,
        encoder=lambda: oa_encode.ChatStreamEncoder(
            completion_id,
            created,
            resolved.requested,
            include_usage=options.include_usage,
            exclude_reasoning=exclude,
            logprobs=logprobs,
        ),
        body=lambda result: oa_encode.encode_chat_completion(
            result,
            completion_id=completion_id,
            created=created,
            model=resolved.requested,
            exclude_reasoning=exclude,
            logprobs=logprobs,
        ),
    )


@endpoint(OPENAI, "/v1/completions")
async def completions(ctx: RequestContext) -> Response:
    """Raw completion on /api/generate, streamed or not."""
    await ctx.authenticate()
    request, options = decode_completion(await ctx.json())
    resolved, controls = await start(ctx, request.model, request.controls, stream=request.stream)
    request = await inline_generate_images(request, ctx.gateway.images)
    request = replace(request, model=resolved.upstream, controls=controls)
    completion_id, created, exclude = _completion_id("cmpl"), int(time.time()), bool(controls.exclude_reasoning)
    logprobs = bool(request.logprobs)
    echo = request.prompt if options.echo else None
    return await respond(
        ctx,
        generate_events(
            ctx.gateway.upstream,
            request,
            time_limit=ctx.gateway.time_limit_seconds(controls.timeout_ms),
            placement=ctx.placement(),
        ),
        stream=request.stream,
        encoder=lambda: oa_encode.CompletionStreamEncoder(
            completion_id,
            created,
            resolved.requested,
            include_usage=options.include_usage,
            exclude_reasoning=exclude,
            logprobs=logprobs,
            echo=echo,
        ),
        body=lambda result: oa_encode.encode_completion(
            result,
            completion_id=completion_id,
            created=created,
            model=resolved.requested,
            exclude_reasoning=exclude,
            logprobs=logprobs,
            echo=echo,
        ),
    )


@endpoint(OPENAI, "/v1/embeddings")
async def embeddings(ctx: RequestContext) -> Response:
    """Embeddings on /api/embed."""
    await ctx.authenticate()
    request, options = decode_embeddings(await ctx.json())
    resolved, controls = await start(ctx, request.model, request.controls)
    request = replace(request, model=resolved.upstream, controls=controls)
    exchange = ctx.exchange
    assert exchange is not None
    time_limit = ctx.gateway.time_limit_seconds(controls.timeout_ms)
    placement = ctx.placement()
    result = await until_disconnect(
        ctx.request.scope,
        ctx.request.receive,
        embed(ctx.gateway.upstream, request, time_limit=time_limit, placement=placement),
    )
    exchange.usage = result.usage
    exchange.finish(None)
    return json_response(oa_encode.encode_embeddings(result, resolved.requested, options.encoding_format))


@endpoint(OPENAI, "/v1/models")
async def list_models(ctx: RequestContext) -> Response:
    """The models this key may use, by the names clients should send."""
    key = await ctx.authenticate()
    return json_response(
        oa_encode.encode_model_list(_model(r, r.public_name) for r in ctx.gateway.catalog.visible(key))
    )


@endpoint(OPENAI, "/v1/models/{model_id}")
async def get_model(ctx: RequestContext) -> Response:
    """One model, by display name or Ollama name (with or without `:latest`)."""
    key = await ctx.authenticate()
    name = ctx.request.path_params["model_id"]
    resolved = await ctx.gateway.catalog.resolve_fresh(name, key)
    return json_response(_model(resolved.record, name))


def _model(record: ModelRecord, name: str) -> dict[str, object]:
    created = int(record.modified_at.timestamp()) if record.modified_at else 0
    owner = record.name.split("/", 1)[0] if "/" in record.name else "library"
    return oa_encode.encode_model(name, created, owner)


def routes() -> list[Route]:
    """The OpenAI routes."""
    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
    ]
