"""Byte-level framing: an incremental NDJSON decoder (Ollama) and SSE frame encoding (clients)."""

from __future__ import annotations

from typing import Any

import orjson

from ollama_gateway.errors import UpstreamStreamError


class NDJSONDecoder:
    """Splits a byte stream into JSON objects, one per line, across arbitrary chunk boundaries."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def decode(self, chunk: bytes) -> list[Any]:
        """Feed bytes; return every complete object they finish."""
        if not chunk:
            return []
        data = self._buffer + chunk if self._buffer else chunk
        lines = data.split(b"\n")
        self._buffer = lines.pop()
        return [_parse_line(line) for line in lines if line.strip()]

    def flush(self) -> list[Any]:
        """Return the object left in the buffer when the stream ends without a final newline."""
        rest, self._buffer = self._buffer, b""
        return [_parse_line(rest)] if rest.strip() else []


def _parse_line(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise UpstreamStreamError(f"invalid NDJSON line from upstream: {exc}") from exc


def sse_frame(data: bytes, event: str | None = None) -> bytes:
    """One server-sent event; `data` must not contain newlines (compact JSON never does)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


def sse_json(obj: Any, event: str | None = None) -> bytes:
    """One server-sent event whose data is `obj` as compact JSON."""
    return sse_frame(orjson.dumps(obj), event)


SSE_COMMENT_PING = b": ping\n\n"
