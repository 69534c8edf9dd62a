"""Shared helpers: run core events through the encoders and parse the SSE they produce."""

from __future__ import annotations

from typing import Any

import orjson

from ollama_gateway.core.events import Event
from ollama_gateway.core.results import fold
from ollama_gateway.protocols.anthropic import MessagesOptions, MessagesStreamEncoder, encode_message

MESSAGE_ID = "msg_01TEST"
MODEL = "claude-sonnet-via-ollama"


def encoder(options: MessagesOptions | None = None, estimate: int = 11) -> MessagesStreamEncoder:
    return MessagesStreamEncoder(
        message_id=MESSAGE_ID, model=MODEL, options=options or MessagesOptions(), input_tokens_estimate=estimate
    )


def stream_bytes(events: list[Event], options: MessagesOptions | None = None) -> bytes:
    enc = encoder(options)
    return enc.on_start() + b"".join(enc.on_event(e) for e in events) + enc.on_end()


def body_for(events: list[Event], options: MessagesOptions | None = None) -> dict[str, Any]:
    return encode_message(fold(events), message_id=MESSAGE_ID, model=MODEL, options=options or MessagesOptions())


def parse_sse(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Each frame as (event name, data object); asserts the framing is exactly `event:`/`data:`/blank line."""
    assert data.endswith(b"\n\n")
    frames = []
    for frame in data[:-2].split(b"\n\n"):
        event_line, data_line = frame.split(b"\n")
        assert event_line.startswith(b"event: ")
        assert data_line.startswith(b"data: ")
        frames.append((event_line[7:].decode(), orjson.loads(data_line[6:])))
    return frames
