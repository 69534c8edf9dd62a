"""Drive the official openai SDK against canned responses through an in-memory transport (no network)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import openai
import orjson

Handler = Callable[[dict[str, Any]], tuple[int, bytes, str]]
"""Gets the JSON request body; returns status, response bytes and content type."""


@contextmanager
def sdk_client(handler: Handler) -> Iterator[openai.OpenAI]:
    """An OpenAI client whose every request is answered by `handler`, with no retries."""

    def respond(request: httpx2.Request) -> httpx2.Response:
        body = orjson.loads(request.content) if request.content else {}
        status, content, content_type = handler(body)
        return httpx2.Response(status, content=content, headers={"content-type": content_type})

    http_client = httpx2.Client(transport=httpx2.MockTransport(respond))
    client = openai.OpenAI(api_key="test", base_url="http://gateway.test/v1", http_client=http_client, max_retries=0)
    try:
        yield client
    finally:
        client.close()
        http_client.close()


def sse_handler(frames: bytes) -> Handler:
    """A handler answering with a fixed SSE body."""
    return lambda _body: (200, frames, "text/event-stream")


def json_handler(body: Any, status: int = 200) -> Handler:
    """A handler answering with a fixed JSON body."""
    return lambda _request: (status, orjson.dumps(body), "application/json")


def parse_sse(frames: bytes) -> list[Any]:
    """Split an SSE body into its data payloads: parsed JSON, or the literal "[DONE]"; comments are kept as-is."""
    out: list[Any] = []
    assert frames.endswith(b"\n\n") or not frames
    for frame in frames.split(b"\n\n")[:-1]:
        if frame.startswith(b":"):
            out.append(frame.decode())
            continue
        assert frame.startswith(b"data: "), frame
        data = frame[len(b"data: ") :]
        out.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return out
