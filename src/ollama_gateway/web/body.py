"""Reading request bodies under a size limit and parsing them as JSON."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from ollama_gateway.errors import CancelledError, InvalidRequestError, PayloadTooLargeError


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"request body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLargeError(f"request body is larger than {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:  # gone mid-body, or cut off by the server's body read timeout (408)
        raise CancelledError("client disconnected while sending the body") from None
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or a 400 that says where it is malformed."""
    if not raw.strip():
        raise InvalidRequestError("request body is empty; expected a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"request body is not valid JSON: {exc}") from exc


async def read_json(request: Request, max_bytes: int) -> Any:
    """Read and parse a JSON body under the size limit."""
    return parse_json(await read_body(request, max_bytes))
