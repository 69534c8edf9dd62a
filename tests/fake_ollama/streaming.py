"""Write a played plan as NDJSON (streaming) or one JSON object, with Ollama's error placement rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from .generation import Failure, Piece, Plan, Turn, chunk_object, final_object, play
from .replies import Reply
from .state import FakeState, RecordedRequest
from .wire import JSON_PLAIN, JSON_UTF8, NDJSON, dumps, error_response, json_response

_POLL_S = 0.002
RECORDED_KEY = web.RequestKey("fake_ollama_recorded", RecordedRequest)


class Abandoned(Exception):
    """A held stream was abandoned because the fake was reset or stopped."""


def holder(state: FakeState, request: web.Request) -> Callable[[Reply], Any]:
    """A wait function for Reply.hold: polls the event, gives up on reset/stop or a closed connection."""
    epoch = state.epoch

    async def wait_hold(reply: Reply) -> None:
        reply.held.set()
        assert reply.hold is not None
        while not reply.hold.is_set():
            if state.epoch != epoch or getattr(state, "stopping", False):
                raise Abandoned
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("client went away while the reply was held")
            await asyncio.sleep(_POLL_S)

    return wait_hold


async def open_ndjson(request: web.Request) -> web.StreamResponse:
    """Start a 200 NDJSON response (gin writes headers with the first chunk)."""
    response = web.StreamResponse(status=200, headers={"Content-Type": NDJSON})
    await response.prepare(request)
    return response


async def write_line(response: web.StreamResponse, obj: Any) -> None:
    """One compact JSON object and a newline; aiohttp hands it to the transport at once."""
    await response.write(dumps(obj) + b"\n")


async def respond(request: web.Request, state: FakeState, turn: Turn, plan: Plan) -> web.StreamResponse:
    """Answer a chat/generate request from `plan`, recording a disconnect if the client goes away."""
    items = play(plan, holder(state, request))
    try:
        if turn.stream:
            return await _stream(request, turn, plan, items)
        return await _single(request, turn, plan, items)
    except (asyncio.CancelledError, ConnectionError):
        state.note_disconnect(request[RECORDED_KEY])
        raise
    finally:
        await items.aclose()


async def _stream(
    request: web.Request, turn: Turn, plan: Plan, items: AsyncIterator[Piece | Failure]
) -> web.StreamResponse:
    response: web.StreamResponse | None = None
    try:
        async for item in items:
            if isinstance(item, Failure):
                if response is None:
                    return error_response(item.text, item.status, JSON_PLAIN)
                await write_line(response, {"error": item.text})
                await response.write_eof()
                return response
            if response is None:
                response = await open_ndjson(request)
            await write_line(response, chunk_object(turn, item))
    except Abandoned:
        return _hang_up(request, response)
    if response is None:
        response = await open_ndjson(request)
    await write_line(response, final_object(turn, plan))
    await response.write_eof()
    return response


async def _single(
    request: web.Request, turn: Turn, plan: Plan, items: AsyncIterator[Piece | Failure]
) -> web.StreamResponse:
    sent: list[Piece] = []
    try:
        async for item in items:
            if isinstance(item, Failure):
                return error_response(item.text, item.status, JSON_UTF8)
            sent.append(item)
    except Abandoned:
        return _hang_up(request, None)
    return json_response(final_object(turn, plan, sent))


def _hang_up(request: web.Request, response: web.StreamResponse | None) -> web.StreamResponse:
    """Close the connection of an abandoned request without logging a handler error."""
    if request.transport is not None:
        request.transport.close()
    return response if response is not None else error_response("fake Ollama was reset", 503)
