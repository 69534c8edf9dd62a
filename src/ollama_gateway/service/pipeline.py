"""Running neutral requests through the upstream port, with what the gateway adds on top (stop sequences)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.core.events import Event
from ollama_gateway.core.messages import ImagePart, Message, Part
from ollama_gateway.core.requests import ChatRequest, EmbedRequest, GenerateRequest
from ollama_gateway.core.stops import apply_stops
from ollama_gateway.upstream.images import ImageFetcher
from ollama_gateway.upstream.port import ANYWHERE, Placement, Upstream


def chat_events(
    upstream: Upstream,
    request: ChatRequest,
    *,
    time_limit: float,
    prompt_estimate: int = 0,
    placement: Placement = ANYWHERE,
) -> AsyncIterator[Event]:
    """The event stream of a chat request, cut at the first stop sequence; errors are raised as GatewayError."""
    events = upstream.chat(request, time_limit=time_limit, placement=placement)
    if request.stop_sequences:
        return apply_stops(events, request.stop_sequences, prompt_tokens_estimate=prompt_estimate)
    return events


def generate_events(
    upstream: Upstream, request: GenerateRequest, *, time_limit: float, placement: Placement = ANYWHERE
) -> AsyncIterator[Event]:
    """The event stream of a completion request."""
    return upstream.generate(request, time_limit=time_limit, placement=placement)


async def embed(
    upstream: Upstream, request: EmbedRequest, *, time_limit: float, placement: Placement = ANYWHERE
) -> EmbedResult:
    """Run an embeddings request."""
    return await upstream.embed(request, time_limit=time_limit, placement=placement)


async def inline_images(messages: tuple[Message, ...], fetcher: ImageFetcher) -> tuple[Message, ...]:
    """Fetch every image given by URL (concurrently) and put its data in place."""
    urls = {p.url for m in messages for p in m.parts if isinstance(p, ImagePart) and p.data is None and p.url}
    if not urls:
        return messages
    ordered = sorted(urls)
    fetched = dict(zip(ordered, await asyncio.gather(*(fetcher.fetch_base64(u) for u in ordered)), strict=True))

    def part(p: Part) -> Part:
        if isinstance(p, ImagePart) and p.data is None and p.url:
            return replace(p, data=fetched[p.url])
        return p

    return tuple(replace(m, parts=tuple(part(p) for p in m.parts)) if m.images else m for m in messages)


async def inline_generate_images(request: GenerateRequest, fetcher: ImageFetcher) -> GenerateRequest:
    """Fetch the images of a completion request given by URL."""
    if not any(i.data is None for i in request.images):
        return request
    data = await asyncio.gather(*(fetcher.fetch_base64(i.url or "") for i in request.images if i.data is None))
    it = iter(data)
    images = tuple(i if i.data is not None else replace(i, data=next(it)) for i in request.images)
    return replace(request, images=images)
