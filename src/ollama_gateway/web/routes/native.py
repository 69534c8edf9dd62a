"""Ollama's native API behind the gateway's keys and model permissions, relayed as it comes."""

from __future__ import annotations

from typing import Any, cast

import orjson
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.core.messages import Message, Role, TextPart
from ollama_gateway.core.requests import GenerationControls
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.policy.overrides import merge_native
from ollama_gateway.protocols.ollama.errors import error_body
from ollama_gateway.storage.models import ModelRecord, name_variants
from ollama_gateway.web.context import RequestContext, Surface, endpoint, json_response
from ollama_gateway.web.generation import start
from ollama_gateway.web.relay import RelayResponse

OLLAMA = Surface("ollama", error_body)

_ROLES = ("system", "user", "assistant", "tool")

# Native paths that run a model: tracked as tasks and recorded as usage like every other request.
GENERATING = {"/api/chat": True, "/api/generate": True, "/api/embed": False, "/api/embeddings": False}


async def _model_call(ctx: RequestContext) -> Response:
    """POST /api/chat, /api/generate, /api/embed or /api/embeddings under the key's model permissions."""
    path = ctx.request.url.path
    await ctx.authenticate()
    body = await ctx.json()
    if not isinstance(body, dict):
        raise InvalidRequestError("request body must be a JSON object")
    name = body.get("model") or body.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError("model is required", param="model")
    streams = GENERATING[path] and body.get("stream", True) is not False  # Ollama streams unless told not to
    resolved, controls = await start(ctx, name, GenerationControls(), stream=streams)
    upstream = merge_native({**body, "model": resolved.upstream}, resolved.record.overrides)
    upstream.pop("name", None)
    exchange = ctx.exchange
    assert exchange is not None
    messages = () if path != "/api/chat" else _messages_of(body)
    return RelayResponse(
        ctx.gateway.upstream,
        path,
        orjson.dumps(upstream),
        model=resolved.upstream,
        placement=ctx.placement(messages),
        exchange=exchange,
        headers=ctx.headers,
        time_limit=ctx.gateway.time_limit_seconds(controls.timeout_ms),
        error_body=error_body,
        settle=ctx.gateway.settle_usage,
        cancel_requested=lambda: ctx.cancel_requested,
        cancel_error=ctx.cancel_error,
    )


@endpoint(OLLAMA, "/api/show")
async def show(ctx: RequestContext) -> Response:
    """Model details, for models this key may use."""
    key = await ctx.authenticate()
    body = await ctx.json()
    name = body.get("model") or body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidRequestError("model is required", param="model")
    resolved = await ctx.gateway.catalog.resolve_fresh(name, key)
    extra = {k: v for k, v in body.items() if k not in ("model", "name")}
    return json_response(await ctx.gateway.upstream.show(resolved.upstream, extra))


@endpoint(OLLAMA, "/api/tags")
async def tags(ctx: RequestContext) -> Response:
    """Ollama's model list, narrowed to this key's models and named as clients should call them."""
    key = await ctx.authenticate()
    return json_response({"models": _visible(ctx, key, await ctx.gateway.upstream.models())})


@endpoint(OLLAMA, "/api/ps")
async def running(ctx: RequestContext) -> Response:
    """Loaded models, narrowed to this key's models."""
    key = await ctx.authenticate()
    return json_response({"models": _visible(ctx, key, await ctx.gateway.upstream.running())})


@endpoint(OLLAMA, "/api/version")
async def version(ctx: RequestContext) -> Response:
    """Ollama's version."""
    await ctx.authenticate()
    return json_response(await ctx.gateway.upstream.version())


def _messages_of(body: dict[str, Any]) -> tuple[Message, ...]:
    """The opening of a native chat, enough for conversation affinity (role and text only)."""
    raw = body.get("messages")
    if not isinstance(raw, list):
        return ()
    opening = []
    for entry in raw[:8]:
        if isinstance(entry, dict) and entry.get("role") in _ROLES and isinstance(entry.get("content"), str):
            opening.append(Message(role=cast(Role, entry["role"]), parts=(TextPart(entry["content"]),)))
    return tuple(opening)


def _visible(ctx: RequestContext, key: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name: dict[str, ModelRecord] = {}
    for record in ctx.gateway.catalog.visible(key):
        for variant in name_variants(record.name):
            by_name[variant] = record
    out = []
    for entry in entries:
        found = by_name.get(str(entry.get("name") or entry.get("model")))
        if found is None:
            continue
        public = found.public_name
        out.append({**entry, "name": public, "model": public} if found.display_name else entry)
    return out


def routes() -> list[Route]:
    """The native passthrough routes."""
    # One endpoint per path, so usage rows and tasks name the path the client called.
    calls = [Route(path, endpoint(OLLAMA, path)(_model_call), methods=["POST"]) for path in GENERATING]
    return [
        *calls,
        Route("/api/show", show, methods=["POST"]),
        Route("/api/tags", tags, methods=["GET", "HEAD"]),
        Route("/api/ps", running, methods=["GET"]),
        Route("/api/version", version, methods=["GET", "HEAD"]),
    ]
