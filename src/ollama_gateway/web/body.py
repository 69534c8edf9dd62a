"""Reading request bodies under a size limit and parsing them as JSON."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from ollama_gateway.errors import CancelledError, InvalidRequestError, PayloadTooLargeError


async def read_body(receive: Receive, max_bytes: int, declared: str | None) -> bytes:
    """The raw body straight from the ASGI messages, refused with 413 as soon as it passes `max_bytes`.

    For the API endpoints, which own their request from its first byte; `declared` is its Content-Length
    header, if it has one. (Not Starlette's `Request.stream()`: an async generator and a header scan per
    request, for what is almost always one `http.request` message.)
    """
    _check_declared(declared, max_bytes)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # gone mid-body, or cut off by the server's body read timeout (408)
            raise CancelledError("client disconnected while sending the body")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLargeError(f"request body is larger than {max_bytes} bytes")
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


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
    _check_declared(request.headers.get("content-length"), max_bytes)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLargeError(f"request body is larger than {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise CancelledError("client disconnected while sending the body") from None
    return parse_json(b"".join(chunks))


def _check_declared(declared: str | None, max_bytes: int) -> None:
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"request body is larger than {max_bytes} bytes")
