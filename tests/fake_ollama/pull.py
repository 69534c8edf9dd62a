"""POST /api/pull: the progress sequence of a model download, streamed or collapsed to its last object."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import web

from .catalog import ModelName, parse_name
from .decoding import decode_body
from .errors import INVALID_MODEL_NAME, PULL_NOT_FOUND, OllamaError
from .requests import PULL
from .routes_generation import STATE_KEY
from .state import FakeState
from .streaming import RECORDED_KEY, open_ndjson, write_line
from .wire import JSON_PLAIN, error_response, json_response


def layer_digest(name: ModelName, index: int, size: int) -> str:
    """A stable sha256 hex digest for one layer of a pulled model."""
    return hashlib.sha256(f"{name.full}\0{index}\0{size}".encode()).hexdigest()


def _progress(status: str, digest: str, total: int, completed: int) -> dict[str, Any]:
    obj: dict[str, Any] = {"status": status, "digest": f"sha256:{digest}", "total": total}
    if completed:  # omitempty
        obj["completed"] = completed
    return obj


async def pull_events(state: FakeState, name: ModelName) -> AsyncGenerator[dict[str, Any], None]:
    """Progress objects in Ollama's order; an `{"error": ...}` object ends an unknown model's pull."""
    delay = state.pull_step_delay

    async def pause() -> None:
        if delay > 0:
            await asyncio.sleep(delay)

    yield {"status": "pulling manifest"}
    spec = state.pull_spec(name.short)
    if spec is None:
        await pause()
        yield {"error": PULL_NOT_FOUND}
        return
    layers, model_args = spec
    for index, size in enumerate(layers):
        digest = layer_digest(name, index, size)
        status = f"pulling {digest[:12]}"
        steps = sorted({0, size // 3, 2 * size // 3, size})
        for completed in steps:
            await pause()
            yield _progress(status, digest, size, completed)
    for status in ("verifying sha256 digest", "writing manifest"):
        await pause()
        yield {"status": status}
    if name.short not in state.models:
        args: dict[str, Any] = {"size": sum(layers), **model_args}
        state.add_model(name.short, args.pop("capabilities", None), **args)
    await pause()
    yield {"status": "success"}


async def handle_pull(request: web.Request) -> web.StreamResponse:
    """POST /api/pull."""
    state = request.app[STATE_KEY]
    body = decode_body(await request.read(), PULL)
    name = parse_name(body.get("model") or body.get("name") or "")
    if name is None:
        raise OllamaError(400, INVALID_MODEL_NAME)
    events = pull_events(state, name)
    try:
        if body.get("stream") is False:
            latest: dict[str, Any] = {}
            async for event in events:
                if "error" in event:
                    return error_response(event["error"], 500, JSON_PLAIN)
                latest = event
            return json_response(latest, content_type=JSON_PLAIN)
        response = await open_ndjson(request)
        async for event in events:
            await write_line(response, event)
        await response.write_eof()
        return response
    except (asyncio.CancelledError, ConnectionError):
        state.note_disconnect(request[RECORDED_KEY])
        raise
    finally:
        await events.aclose()
