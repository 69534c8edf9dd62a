"""Running neutral requests on Ollama: encode, send through the pooled client, decode into events."""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import AsyncIterator
from dataclasses import replace

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.core.events import Event, close_stream
from ollama_gateway.core.messages import ImagePart, Message, Part
from ollama_gateway.core.requests import ChatRequest, EmbedRequest, GenerateRequest
from ollama_gateway.core.stops import apply_stops
from ollama_gateway.protocols.ollama import decode as ollama_decode
from ollama_gateway.protocols.ollama import encode as ollama_encode
from ollama_gateway.upstream.client import OllamaClient
from ollama_gateway.upstream.images import ImageFetcher

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_tool_call_id() -> str:
    """An id in Ollama's own shape: `call_` and 8 lower-case alphanumerics."""
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def chat_events(
    client: OllamaClient, request: ChatRequest, *, time_limit: float, prompt_estimate: int = 0
) -> AsyncIterator[Event]:
    """The event stream of a chat request; errors are raised as GatewayError."""
    body = ollama_encode.chat_body(request)
    if request.stop_sequences:
        body["stream"] = True  # so the gateway can stop reading (and Ollama generating) at the match
    events = _objects_to_events(
        client.objects("/api/chat", body, time_limit=time_limit),
        ollama_decode.ChunkDecoder(new_tool_call_id),
    )
    if request.stop_sequences:
        return apply_stops(events, request.stop_sequences, prompt_tokens_estimate=prompt_estimate)
    return events


def generate_events(client: OllamaClient, request: GenerateRequest, *, time_limit: float) -> AsyncIterator[Event]:
    """The event stream of a completion request."""
    return _objects_to_events(
        client.objects("/api/generate", ollama_encode.generate_body(request), time_limit=time_limit),
        ollama_decode.ChunkDecoder(new_tool_call_id, generate=True),
    )


async def embed(client: OllamaClient, request: EmbedRequest, *, time_limit: float) -> EmbedResult:
    """Run an embeddings request."""
    answer = await client.request_json("POST", "/api/embed", ollama_encode.embed_body(request), time_limit=time_limit)
    return ollama_decode.parse_embed_response(answer)


async def _objects_to_events(
    objects: AsyncIterator[object], decoder: ollama_decode.ChunkDecoder
) -> AsyncIterator[Event]:
    try:
        async for obj in objects:
            for event in decoder.decode(obj):
                yield event
    finally:
        await close_stream(objects)


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
