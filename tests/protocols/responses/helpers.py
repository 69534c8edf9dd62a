"""Shared helpers: run core events through the Responses encoders, parse their SSE, check it with the SDK's types."""

from __future__ import annotations

from typing import Any, get_args

import orjson
from openai import BaseModel as SDKModel
from openai.types.responses import ResponseStreamEvent

from ollama_gateway.core.events import Event
from ollama_gateway.core.results import fold
from ollama_gateway.protocols.responses import ResponsesOptions, ResponsesStreamEncoder, encode_response

RESPONSE_ID = "resp_abc"
CREATED = 1_700_000_000
MODEL = "qwen3-via-gateway"

_UNION = get_args(ResponseStreamEvent)[0]
EVENT_CLASSES: dict[str, type[SDKModel]] = {
    get_args(cls.model_fields["type"].annotation)[0]: cls for cls in get_args(_UNION)
}
"""Every SDK stream event class by its `type` literal."""


def encoder(options: ResponsesOptions | None = None, **kwargs: Any) -> ResponsesStreamEncoder:
    return ResponsesStreamEncoder(RESPONSE_ID, CREATED, MODEL, options or ResponsesOptions(), **kwargs)


def stream_bytes(events: list[Event], options: ResponsesOptions | None = None, **kwargs: Any) -> bytes:
    enc = encoder(options, **kwargs)
    return enc.on_start() + b"".join(enc.on_event(e) for e in events) + enc.on_end()


def body_for(events: list[Event], options: ResponsesOptions | None = None, **kwargs: Any) -> dict[str, Any]:
    return encode_response(
        fold(events),
        response_id=RESPONSE_ID,
        created_at=CREATED,
        model=MODEL,
        options=options or ResponsesOptions(),
        **kwargs,
    )


def parse_sse(data: bytes) -> list[dict[str, Any]]:
    """Each frame's data; asserts exact `event:`/`data:` framing, the event name equal to `type`, and the
    sequence numbers counting up from 0."""
    assert data.endswith(b"\n\n")
    out: list[dict[str, Any]] = []
    for frame in data[:-2].split(b"\n\n"):
        event_line, data_line = frame.split(b"\n")
        assert event_line.startswith(b"event: ")
        assert data_line.startswith(b"data: ")
        payload = orjson.loads(data_line[6:])
        assert payload["type"] == event_line[7:].decode()
        assert payload["sequence_number"] == len(out)
        out.append(payload)
    return out


def validate_event(payload: dict[str, Any]) -> SDKModel:
    """Strictly validate one event with the SDK class for its type; no unknown top-level keys."""
    model = EVENT_CLASSES[payload["type"]].model_validate(payload)
    assert not model.model_extra, model.model_extra
    return model


def types(payloads: list[dict[str, Any]]) -> list[str]:
    return [p["type"] for p in payloads]
