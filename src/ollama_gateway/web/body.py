"""Reading request bodies under a size limit and parsing them as JSON."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from ollama_gateway.errors import CancelledError, InvalidRequestError, PayloadTooLargeError


class _Limited:
    """A body's chunks, gathered under the size limit: a 413 as soon as they (or the declared length) pass it."""

    __slots__ = ("chunks", "max_bytes", "size")

    def __init__(self, max_bytes: int, declared: str | None) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self.chunks: list[bytes] = []
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            self._refuse()

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self._refuse()
        self.chunks.append(chunk)

    def body(self) -> bytes:
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)

    def _refuse(self) -> None:
        raise PayloadTooLargeError(f"request body is larger than {self.max_bytes} bytes")


async def read_body(receive: Receive, max_bytes: int, declared: str | None) -> bytes:
    """The raw body straight from the ASGI messages, refused with 413 as soon as it passes `max_bytes`.

    For the API endpoints, which own their request from its first byte; `declared` is its Content-Length
    header, if it has one. (Not Starlette's `Request.stream()`: an async generator and a header scan per
    request, for what is almost always one `http.request` message.)
    """
    gathered = _Limited(max_bytes, declared)
    while True:
        message = await receive()
        if message["type"] != "http.request":  # gone mid-body, or cut off by the server's body read timeout (408)
            raise CancelledError("client disconnected while sending the body")
        chunk = message.get("body", b"")
        if chunk:
            gathered.add(chunk)
        if not message.get("more_body", False):
            return gathered.body()


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or a 400 that says where it is malformed."""
    if not raw.strip():
        raise InvalidRequestError("request body is empty; expected a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"request body is not valid JSON: {exc}") from exc


async def read_json(request: Request, max_bytes: int) -> Any:
    """Read and parse a Starlette request's JSON body under the size limit (its body may have been read already)."""
    gathered = _Limited(max_bytes, request.headers.get("content-length"))
    try:
        async for chunk in request.stream():
            gathered.add(chunk)
    except ClientDisconnect:
        raise CancelledError("client disconnected while sending the body") from None
    return parse_json(gathered.body())
