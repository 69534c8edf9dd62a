"""Full SSE transcripts, event by event, each event validated with the anthropic SDK's own types."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from ollama_gateway.core.events import (
    Event,
    Finished,
    LogprobsDelta,
    TextDelta,
    ThinkingDelta,
    TokenLogprob,
    ToolCallEvent,
)
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import UpstreamStreamError
from ollama_gateway.protocols.anthropic import MessagesOptions, thinking_signature

from .helpers import MESSAGE_ID, MODEL, body_for, encoder, parse_sse, stream_bytes

EVENT = TypeAdapter(RawMessageStreamEvent)
USAGE = Usage(prompt_tokens=20, completion_tokens=7)
CALL = ToolCall(id="call_ab12cd34", name="weather", arguments={"city": "Paris", "days": 2})


def transcript(events: list[Event], options: MessagesOptions | None = None) -> list[tuple[str, dict[str, Any]]]:
    frames = parse_sse(stream_bytes(events, options))
    for name, data in frames:
        assert name == data["type"]
        EVENT.validate_python(data)
    return frames


def start_frame() -> tuple[str, dict[str, Any]]:
    return (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": MESSAGE_ID,
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 11, "output_tokens": 1},
            },
        },
    )


def block(kind: str, index: int, **payload: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": {"type": kind, **payload}},
        )
    ]


def delta(index: int, **payload: Any) -> tuple[str, dict[str, Any]]:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": payload})


def stop(index: int) -> tuple[str, dict[str, Any]]:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


def end(reason: str, sequence: str | None = None, usage: Usage = USAGE) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reason, "stop_sequence": sequence},
                "usage": {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


def test_start_message_is_a_valid_sdk_message() -> None:
    Message.model_validate(start_frame()[1]["message"])
    assert encoder().media_type == "text/event-stream"


def test_text_only() -> None:
    events: list[Event] = [TextDelta("Hel"), TextDelta(""), TextDelta("lo"), Finished("stop", USAGE)]
    assert transcript(events) == [
        start_frame(),
        *block("text", 0, text=""),
        delta(0, type="text_delta", text="Hel"),
        delta(0, type="text_delta", text="lo"),
        stop(0),
        *end("end_turn"),
    ]


def test_thinking_then_signature_then_text() -> None:
    events: list[Event] = [ThinkingDelta("Let me "), ThinkingDelta("think."), TextDelta("42"), Finished("stop", USAGE)]
    assert transcript(events) == [
        start_frame(),
        *block("thinking", 0, thinking="", signature=""),
        delta(0, type="thinking_delta", thinking="Let me "),
        delta(0, type="thinking_delta", thinking="think."),
        delta(0, type="signature_delta", signature=thinking_signature("Let me think.")),
        stop(0),
        *block("text", 1, text=""),
        delta(1, type="text_delta", text="42"),
        stop(1),
        *end("end_turn"),
    ]


def test_thinking_omitted_keeps_block_and_signature() -> None:
    events: list[Event] = [ThinkingDelta("secret"), TextDelta("ok"), Finished("stop", USAGE)]
    frames = transcript(events, MessagesOptions(thinking_display="omitted"))
    assert frames[1:4] == [
        *block("thinking", 0, thinking="", signature=""),
        delta(0, type="signature_delta", signature=thinking_signature("secret")),
        stop(0),
    ]
    assert all(d.get("delta", {}).get("type") != "thinking_delta" for _, d in frames)


def test_tool_use_with_one_input_json_delta() -> None:
    events: list[Event] = [TextDelta("Checking."), ToolCallEvent(CALL), Finished("stop", USAGE)]
    assert transcript(events) == [
        start_frame(),
        *block("text", 0, text=""),
        delta(0, type="text_delta", text="Checking."),
        stop(0),
        *block("tool_use", 1, id="toolu_ab12cd34", name="weather", input={}),
        delta(1, type="input_json_delta", partial_json='{"city":"Paris","days":2}'),
        stop(1),
        *end("tool_use"),
    ]


def test_two_tool_calls_get_distinct_ids_without_upstream_ids() -> None:
    calls = [ToolCall(id="", name="f", arguments={}, index=0), ToolCall(id="", name="g", arguments={}, index=1)]
    frames = transcript([ToolCallEvent(c) for c in calls] + [Finished("tool_calls", USAGE)])
    starts = [d["content_block"] for n, d in frames if n == "content_block_start"]
    assert [s["id"] for s in starts] == ["toolu_01TEST_0", "toolu_01TEST_1"]
    assert [d["index"] for n, d in frames if n == "content_block_start"] == [0, 1]


def test_max_tokens() -> None:
    frames = transcript([TextDelta("trunc"), Finished("length", USAGE)])
    assert frames[-2:] == end("max_tokens")


def test_stop_sequence() -> None:
    frames = transcript([TextDelta("one two"), Finished("stop", USAGE, stop_sequence="END")])
    assert frames[-2:] == end("stop_sequence", "END")


def test_thinking_after_text_opens_a_new_block() -> None:
    events: list[Event] = [
        ThinkingDelta("a"),
        TextDelta("b"),
        ThinkingDelta("c"),
        TextDelta("d"),
        Finished("stop", USAGE),
    ]
    frames = transcript(events)
    starts = [(d["index"], d["content_block"]["type"]) for n, d in frames if n == "content_block_start"]
    assert starts == [(0, "thinking"), (1, "text"), (2, "thinking"), (3, "text")]
    signatures = [d["delta"]["signature"] for n, d in frames if d.get("delta", {}).get("type") == "signature_delta"]
    assert signatures == [thinking_signature("a"), thinking_signature("c")]


def test_blocks_never_overlap() -> None:
    events: list[Event] = [
        ThinkingDelta("a"),
        TextDelta("b"),
        ToolCallEvent(CALL),
        TextDelta("c"),
        Finished("stop", USAGE),
    ]
    open_index: int | None = None
    last = -1
    for name, data in transcript(events):
        if name == "content_block_start":
            assert open_index is None
            assert data["index"] == last + 1
            open_index = last = data["index"]
        elif name == "content_block_delta":
            assert data["index"] == open_index
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
    assert open_index is None


def test_empty_generation_and_logprobs_produce_no_blocks() -> None:
    lp = LogprobsDelta((TokenLogprob(token="x", logprob=-0.1),))
    assert transcript([lp, ThinkingDelta(""), Finished("stop", USAGE)]) == [start_frame(), *end("end_turn")]


def test_ping_error_and_end() -> None:
    enc = encoder()
    assert enc.on_idle() == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert enc.on_end() == b""
    frames = parse_sse(enc.on_error(UpstreamStreamError("model crashed")))
    assert frames == [("error", {"type": "error", "error": {"type": "api_error", "message": "model crashed"}})]


@pytest.mark.parametrize(
    "events",
    [
        [TextDelta("Hi"), Finished("stop", USAGE)],
        [ThinkingDelta("hmm"), TextDelta("Hi"), Finished("length", USAGE)],
        [ThinkingDelta("hmm"), TextDelta("Let me check."), ToolCallEvent(CALL), Finished("stop", USAGE)],
        [TextDelta("a"), Finished("stop", USAGE, stop_sequence="\n\n")],
        [Finished("stop", Usage(3, 1))],
    ],
)
def test_non_stream_body_is_a_valid_sdk_message(events: list[Event]) -> None:
    message = Message.model_validate(body_for(events))
    assert message.id == MESSAGE_ID
    assert message.usage.input_tokens == events[-1].usage.prompt_tokens  # type: ignore[union-attr]
