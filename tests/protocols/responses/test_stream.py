"""ResponsesStreamEncoder transcripts, every event validated with the openai SDK's own event types."""

from __future__ import annotations

from typing import Any

from openai.types.responses import Response

from ollama_gateway.core.events import Event, Finished, LogprobsDelta, TextDelta, ThinkingDelta, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import RateLimitError, UpstreamStreamError
from ollama_gateway.protocols.base import StreamEncoder
from ollama_gateway.protocols.framing import SSE_COMMENT_PING
from ollama_gateway.protocols.responses import ResponsesOptions, ResponsesStreamEncoder
from tests.protocols.responses.helpers import (
    CREATED,
    MODEL,
    RESPONSE_ID,
    body_for,
    encoder,
    parse_sse,
    stream_bytes,
    types,
    validate_event,
)

USAGE = Usage(prompt_tokens=12, completion_tokens=5)
USAGE_WIRE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens": 5,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 17,
}
CALL_A = ToolCall(id="call_a", name="weather", arguments={"city": "Paris"})
CALL_B = ToolCall(id="", name="time", arguments={})
MSG_OPEN = {"id": "msg_abc_0", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
TEXT_PART_EMPTY = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}


def transcript(events: list[Event], **kwargs: Any) -> list[dict[str, Any]]:
    payloads = parse_sse(stream_bytes(events, **kwargs))
    for payload in payloads:
        validate_event(payload)
    return payloads


def test_encoder_satisfies_protocol() -> None:
    enc: StreamEncoder = encoder()
    assert enc.media_type == "text/event-stream"
    assert enc.on_idle() == SSE_COMMENT_PING
    assert enc.on_end() == b""


def test_text_only_transcript() -> None:
    frames = stream_bytes([TextDelta("Hel"), TextDelta(""), TextDelta("lo"), Finished("stop", USAGE)])
    assert frames.startswith(b'event: response.created\ndata: {"type":"response.created","sequence_number":0,')
    payloads = parse_sse(frames)
    for payload in payloads:
        validate_event(payload)
    assert payloads[2:-1] == [
        {"type": "response.output_item.added", "sequence_number": 2, "output_index": 0, "item": MSG_OPEN},
        {
            "type": "response.content_part.added",
            "sequence_number": 3,
            "item_id": "msg_abc_0",
            "output_index": 0,
            "content_index": 0,
            "part": TEXT_PART_EMPTY,
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 4,
            "item_id": "msg_abc_0",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
            "logprobs": [],
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 5,
            "item_id": "msg_abc_0",
            "output_index": 0,
            "content_index": 0,
            "delta": "lo",
            "logprobs": [],
        },
        {
            "type": "response.output_text.done",
            "sequence_number": 6,
            "item_id": "msg_abc_0",
            "output_index": 0,
            "content_index": 0,
            "text": "Hello",
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "sequence_number": 7,
            "item_id": "msg_abc_0",
            "output_index": 0,
            "content_index": 0,
            "part": {**TEXT_PART_EMPTY, "text": "Hello"},
        },
        {
            "type": "response.output_item.done",
            "sequence_number": 8,
            "output_index": 0,
            "item": {**MSG_OPEN, "status": "completed", "content": [{**TEXT_PART_EMPTY, "text": "Hello"}]},
        },
    ]
    created, in_progress, completed = payloads[0], payloads[1], payloads[-1]
    for start in (created, in_progress):
        assert start["response"]["status"] == "in_progress"
        assert start["response"]["output"] == []
        assert start["response"]["usage"] is None
    assert completed["type"] == "response.completed"
    response = Response.model_validate(completed["response"])
    assert response.status == "completed"
    assert response.output_text == "Hello"
    assert completed["response"]["usage"] == USAGE_WIRE
    assert (response.id, response.created_at, response.model) == (RESPONSE_ID, CREATED, MODEL)


def test_reasoning_then_text() -> None:
    payloads = transcript([ThinkingDelta("Let me "), ThinkingDelta("see."), TextDelta("42"), Finished("stop", USAGE)])
    assert types(payloads) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert payloads[2]["item"] == {"id": "rs_abc_0", "type": "reasoning", "summary": []}
    assert payloads[3]["part"] == {"type": "summary_text", "text": ""}
    assert payloads[4]["delta"] == "Let me "
    assert payloads[6]["text"] == "Let me see."
    assert payloads[7]["part"] == {"type": "summary_text", "text": "Let me see."}
    done = payloads[8]["item"]
    assert done == {"id": "rs_abc_0", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Let me see."}]}
    assert payloads[9]["output_index"] == 1
    assert payloads[9]["item"]["id"] == "msg_abc_1"
    assert (
        payloads[-1]["response"]["output"]
        == body_for([ThinkingDelta("Let me see."), TextDelta("42"), Finished("stop", USAGE)])["output"]
    )


def test_exclude_reasoning_sends_no_reasoning_item() -> None:
    payloads = transcript([ThinkingDelta("hidden"), TextDelta("x"), Finished("stop", USAGE)], exclude_reasoning=True)
    assert all("reasoning" not in kind for kind in types(payloads))
    assert payloads[2]["item"]["id"] == "msg_abc_0"


def test_two_function_calls() -> None:
    payloads = transcript([ToolCallEvent(CALL_A), ToolCallEvent(CALL_B), Finished("tool_calls", USAGE)])
    assert types(payloads)[2:] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ] * 2 + ["response.completed"]
    first = payloads[2:6]
    assert first[0]["item"] == {
        "id": "fc_abc_0",
        "type": "function_call",
        "status": "in_progress",
        "arguments": "",
        "call_id": "call_a",
        "name": "weather",
    }
    assert first[1] == {
        "type": "response.function_call_arguments.delta",
        "sequence_number": 3,
        "item_id": "fc_abc_0",
        "output_index": 0,
        "delta": '{"city":"Paris"}',
    }
    assert first[2]["arguments"] == '{"city":"Paris"}'
    assert first[3]["item"] == {**first[0]["item"], "status": "completed", "arguments": '{"city":"Paris"}'}
    second = payloads[6]["item"]
    assert (second["id"], second["call_id"], payloads[6]["output_index"]) == ("fc_abc_1", "call_resp_abc_1", 1)
    completed = payloads[-1]["response"]
    assert completed["status"] == "completed"
    assert [item["call_id"] for item in completed["output"]] == ["call_a", "call_resp_abc_1"]


def test_text_then_call_closes_the_message_first() -> None:
    payloads = transcript([TextDelta("Checking."), ToolCallEvent(CALL_A), Finished("tool_calls", USAGE)])
    kinds = types(payloads)
    assert kinds.index("response.output_item.done") < kinds.index("response.function_call_arguments.delta")
    assert [item["type"] for item in payloads[-1]["response"]["output"]] == ["message", "function_call"]


def test_length_gives_incomplete() -> None:
    payloads = transcript([TextDelta("Once upon"), Finished("length", USAGE)])
    assert payloads[-2]["item"]["status"] == "incomplete"
    final = payloads[-1]
    assert final["type"] == "response.completed"
    assert final["response"]["status"] == "incomplete"
    assert final["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert Response.model_validate(final["response"]).incomplete_details is not None


def test_error_gives_response_failed() -> None:
    enc = encoder()
    frames = enc.on_start() + enc.on_event(TextDelta("partial")) + enc.on_error(UpstreamStreamError("model crashed"))
    payloads = parse_sse(frames + enc.on_end())
    for payload in payloads:
        validate_event(payload)
    failed = payloads[-1]
    assert failed["type"] == "response.failed"
    assert failed["response"]["status"] == "failed"
    assert failed["response"]["error"] == {
        "code": "server_error",
        "message": "model crashed",
        "type": "api_error",
        "param": None,
    }
    assert failed["response"]["output"] == [
        {
            "id": "msg_abc_0",
            "type": "message",
            "status": "incomplete",
            "role": "assistant",
            "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "partial"}],
        }
    ]


def test_rate_limit_error_code() -> None:
    enc = encoder()
    payloads = parse_sse(enc.on_start() + enc.on_error(RateLimitError("slow down")))
    assert payloads[-1]["response"]["error"]["code"] == "rate_limit_exceeded"
    validate_event(payloads[-1])


def test_logprobs_events_send_nothing() -> None:
    assert encoder().on_event(LogprobsDelta(())) == b""


def test_custom_item_ids_and_echoed_options() -> None:
    options = ResponsesOptions(instructions="be brief", temperature=0.1, max_output_tokens=50, metadata={"a": "b"})
    enc = ResponsesStreamEncoder(RESPONSE_ID, CREATED, MODEL, options, lambda kind, index: f"{kind}-{index}")
    payloads = parse_sse(enc.on_start() + enc.on_event(TextDelta("x")) + enc.on_event(Finished("stop", USAGE)))
    assert payloads[2]["item"]["id"] == "message-0"
    response = payloads[-1]["response"]
    assert (response["instructions"], response["temperature"], response["max_output_tokens"]) == ("be brief", 0.1, 50)
    assert response["metadata"] == {"a": "b"}
    validate_event(payloads[-1])


def test_sequence_numbers_continue_across_hooks() -> None:
    enc = encoder()
    frames = enc.on_start() + enc.on_event(ThinkingDelta("a")) + enc.on_event(TextDelta("b"))
    frames += enc.on_event(ThinkingDelta("c")) + enc.on_event(Finished("stop", USAGE))
    payloads = parse_sse(frames)
    outputs = payloads[-1]["response"]["output"]
    assert [item["type"] for item in outputs] == ["reasoning", "message", "reasoning"]
    assert [item["id"] for item in outputs] == ["rs_abc_0", "msg_abc_1", "rs_abc_2"]
