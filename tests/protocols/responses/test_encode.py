"""encode_response: the non-streaming `response` object, validated with the SDK's Response model."""

from __future__ import annotations

from openai.types.responses import Response

from ollama_gateway.core.events import Finished, TextDelta, ThinkingDelta, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.protocols.responses import ResponsesOptions, decode_response_request
from tests.protocols.responses.helpers import CREATED, MODEL, RESPONSE_ID, body_for

USAGE = Usage(prompt_tokens=7, completion_tokens=3)
CALL = ToolCall(id="call_1", name="weather", arguments={"city": "Oslo"})


def test_full_body() -> None:
    body = body_for([ThinkingDelta("hmm"), TextDelta("Hi"), ToolCallEvent(CALL), Finished("tool_calls", USAGE)])
    assert body == {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": MODEL,
        "output": [
            {"id": "rs_abc_0", "type": "reasoning", "summary": [{"type": "summary_text", "text": "hmm"}]},
            {
                "id": "msg_abc_1",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Hi"}],
            },
            {
                "id": "fc_abc_2",
                "type": "function_call",
                "status": "completed",
                "arguments": '{"city":"Oslo"}',
                "call_id": "call_1",
                "name": "weather",
            },
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 7,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 3,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 10,
        },
        "user": None,
        "metadata": {},
    }
    response = Response.model_validate(body)
    assert response.output_text == "Hi"


def test_echoes_the_request() -> None:
    _, options = decode_response_request(
        {
            "model": "m",
            "input": "x",
            "instructions": "sys",
            "temperature": 0.4,
            "top_p": 0.8,
            "max_output_tokens": 100,
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}],
            "tool_choice": {"type": "function", "name": "f"},
            "reasoning": {"effort": "high", "summary": "auto"},
            "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True}},
            "parallel_tool_calls": False,
            "user": "u",
        }
    )
    body = body_for([TextDelta("{}"), Finished("stop", USAGE)], options)
    response = Response.model_validate(body)
    assert response.instructions == "sys"
    assert (response.temperature, response.top_p, response.max_output_tokens) == (0.4, 0.8, 100)
    assert response.tool_choice.type == "function"  # type: ignore[union-attr]
    assert response.tools[0].type == "function"
    assert response.reasoning is not None and response.reasoning.effort == "high"
    assert response.text is not None and response.text.format is not None
    assert response.text.format.type == "json_schema"
    assert response.parallel_tool_calls is False
    assert response.user == "u"


def test_length_is_incomplete() -> None:
    body = body_for([TextDelta("cut"), Finished("length", USAGE)])
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    assert body["output"][0]["status"] == "incomplete"
    Response.model_validate(body)


def test_length_after_calls_keeps_the_message_complete() -> None:
    body = body_for([TextDelta("a"), ToolCallEvent(CALL), Finished("length", USAGE)])
    assert [item["status"] for item in body["output"]] == ["completed", "completed"]


def test_empty_result_and_exclude_reasoning() -> None:
    assert body_for([Finished("stop", USAGE)])["output"] == []
    body = body_for([ThinkingDelta("t"), TextDelta("a"), Finished("stop", USAGE)], exclude_reasoning=True)
    assert [item["type"] for item in body["output"]] == ["message"]
    assert body["output"][0]["id"] == "msg_abc_0"


def test_default_options_validate() -> None:
    Response.model_validate(body_for([TextDelta("a"), Finished("stop", USAGE)], ResponsesOptions()))
