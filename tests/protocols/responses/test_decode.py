"""decode_response_request: every mapping from a /v1/responses body to the core request, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.core.messages import ImagePart, Message, TextPart, ToolCall, ToolSpec
from ollama_gateway.core.requests import ChatRequest
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.responses import ResponsesOptions, decode_response_request

PNG = "iVBORw0KGgo="
PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOL = {"type": "function", "name": "weather", "description": "Weather now", "parameters": PARAMS, "strict": False}
CALL = {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": '{"city":"Paris"}'}
OUTPUT = {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}


def decode(**fields: Any) -> tuple[ChatRequest, ResponsesOptions]:
    return decode_response_request({"model": "qwen3", "input": "hi", **fields})


def user(text: str) -> Message:
    return Message(role="user", parts=(TextPart(text),))


def test_minimal_string_input() -> None:
    request, options = decode()
    assert request == ChatRequest(model="qwen3", messages=(user("hi"),))
    assert options == ResponsesOptions()


MESSAGES: list[tuple[str, Any, tuple[Message, ...]]] = [
    ("easy message", [{"role": "user", "content": "hi"}], (user("hi"),)),
    (
        "typed message with parts",
        [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}],
            }
        ],
        (Message(role="user", parts=(TextPart("a"), TextPart("b"))),),
    ),
    (
        "system and developer become system",
        [{"role": "system", "content": "s"}, {"role": "developer", "content": [{"type": "input_text", "text": "d"}]}],
        (Message(role="system", parts=(TextPart("s"),)), Message(role="system", parts=(TextPart("d"),))),
    ),
    (
        "data URL image",
        [
            {
                "role": "user",
                "content": [{"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "low"}],
            }
        ],
        (Message(role="user", parts=(ImagePart(data=PNG, media_type="image/png"),)),),
    ),
    (
        "http image is fetched later",
        [{"role": "user", "content": [{"type": "input_image", "image_url": "https://example.com/cat.png"}]}],
        (Message(role="user", parts=(ImagePart(url="https://example.com/cat.png"),)),),
    ),
    (
        "assistant history with output_text",
        [
            {"role": "user", "content": "hi"},
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "hello", "annotations": [], "logprobs": []}],
            },
        ],
        (user("hi"), Message(role="assistant", parts=(TextPart("hello"),))),
    ),
    (
        "reasoning, text and calls form one assistant turn; outputs become tool messages",
        [
            {"role": "user", "content": "weather?"},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "think"}]},
            {"role": "assistant", "content": "checking"},
            CALL,
            {**CALL, "call_id": "call_2", "arguments": "{}"},
            OUTPUT,
            {**OUTPUT, "call_id": "call_2", "output": [{"type": "input_text", "text": "12:00"}]},
        ],
        (
            user("weather?"),
            Message(
                role="assistant",
                parts=(TextPart("checking"),),
                thinking="think",
                tool_calls=(
                    ToolCall(id="call_1", name="weather", arguments={"city": "Paris"}, index=0),
                    ToolCall(id="call_2", name="weather", arguments={}, index=1),
                ),
            ),
            Message(role="tool", parts=(TextPart("sunny"),), tool_name="weather", tool_call_id="call_1"),
            Message(role="tool", parts=(TextPart("12:00"),), tool_name="weather", tool_call_id="call_2"),
        ),
    ),
    (
        "raw reasoning content wins over the summary",
        [
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "short"}],
                "content": [{"type": "reasoning_text", "text": "long"}],
            },
            {"role": "assistant", "content": "x"},
        ],
        (Message(role="assistant", parts=(TextPart("x"),), thinking="long"),),
    ),
    (
        "a second assistant message starts a new turn",
        [{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}],
        (Message(role="assistant", parts=(TextPart("a"),)), Message(role="assistant", parts=(TextPart("b"),))),
    ),
    (
        "reasoning after a call starts a new turn",
        [
            CALL,
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "t"}]},
            {"role": "assistant", "content": "c"},
        ],
        (
            Message(role="assistant", tool_calls=(ToolCall(id="call_1", name="weather", arguments={"city": "Paris"}),)),
            Message(role="assistant", parts=(TextPart("c"),), thinking="t"),
        ),
    ),
    (
        "refusal part in history is kept as text",
        [{"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]}],
        (Message(role="assistant", parts=(TextPart("no"),)),),
    ),
    (
        "empty reasoning adds no thinking",
        [{"type": "reasoning", "summary": []}, {"role": "assistant", "content": "x"}],
        (Message(role="assistant", parts=(TextPart("x"),)),),
    ),
]


@pytest.mark.parametrize(("name", "raw", "expected"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_input_items(name: str, raw: Any, expected: tuple[Message, ...]) -> None:
    request, _ = decode(input=raw)
    assert request.messages == expected


def test_instructions_lead_as_system() -> None:
    request, options = decode(instructions="Be brief.")
    assert request.messages == (Message(role="system", parts=(TextPart("Be brief."),)), user("hi"))
    assert options.instructions == "Be brief."


CONTROLS: list[tuple[dict[str, Any], dict[str, Any], Any]] = [
    (
        {"temperature": 0.2, "top_p": 0.9, "max_output_tokens": 64},
        {"temperature": 0.2, "top_p": 0.9, "num_predict": 64},
        None,
    ),
    (
        {"options": {"num_ctx": 8192, "temperature": 1.0}, "temperature": 0.5},
        {"num_ctx": 8192, "temperature": 0.5},
        None,
    ),
    ({"top_k": 40, "seed": 7, "stop": "END"}, {"top_k": 40, "seed": 7, "stop": ["END"]}, None),
    ({"reasoning": {"effort": "none"}}, {}, False),
    ({"reasoning": {"effort": "minimal", "summary": "auto"}}, {}, "low"),
    ({"reasoning": {"effort": "low"}}, {}, "low"),
    ({"reasoning": {"effort": "medium"}}, {}, "medium"),
    ({"reasoning": {"effort": "high", "summary": "detailed"}}, {}, "high"),
    ({"reasoning": {"effort": "xhigh"}}, {}, "max"),
    ({"reasoning": {"summary": "concise"}}, {}, None),
    ({"think": True, "reasoning": {"effort": "low"}}, {}, True),
    ({"think": "none"}, {}, False),
]


@pytest.mark.parametrize(("fields", "options", "think"), CONTROLS)
def test_controls(fields: dict[str, Any], options: dict[str, Any], think: Any) -> None:
    request, _ = decode(**fields)
    assert dict(request.controls.options) == options
    assert request.controls.think == think


def test_extensions_keep_alive_timeout_exclude() -> None:
    request, _ = decode(keep_alive="5m", timeout_ms=1500, exclude_reasoning=True)
    assert request.controls.keep_alive == "5m"
    assert request.controls.timeout_ms == 1500
    assert request.controls.exclude_reasoning is True


def test_stream_flag() -> None:
    assert decode(stream=True)[0].stream is True
    assert decode()[0].stream is False


FORMATS: list[tuple[Any, Any]] = [
    ({"format": {"type": "text"}}, None),
    ({"format": {"type": "json_object"}}, "json"),
    ({"format": {"type": "json_schema", "name": "city", "schema": PARAMS, "strict": True}}, PARAMS),
    ({"verbosity": "low"}, None),
]


@pytest.mark.parametrize(("text", "expected"), FORMATS)
def test_text_format(text: Any, expected: Any) -> None:
    request, options = decode(text=text)
    assert request.format == expected
    assert options.text["format"]["type"] == text.get("format", {"type": "text"})["type"]


def test_json_schema_echo_gets_a_name() -> None:
    _, options = decode(text={"format": {"type": "json_schema", "schema": PARAMS}})
    assert options.text == {"format": {"type": "json_schema", "name": "response", "schema": PARAMS}}


TOOL_CHOICES: list[tuple[Any, Any, Any]] = [
    (None, None, "auto"),
    ("auto", "auto", "auto"),
    ("none", "none", "none"),
    ("required", "required", "required"),
    ({"type": "function", "name": "weather"}, "weather", {"type": "function", "name": "weather"}),
]


@pytest.mark.parametrize(("choice", "core", "echo"), TOOL_CHOICES)
def test_tools_and_choice(choice: Any, core: Any, echo: Any) -> None:
    fields: dict[str, Any] = {"tools": [TOOL]}
    if choice is not None:
        fields["tool_choice"] = choice
    request, options = decode(**fields)
    assert request.tools == (ToolSpec(name="weather", parameters=PARAMS, description="Weather now"),)
    assert request.tool_choice == core
    assert options.tool_choice == echo
    assert options.tools == (TOOL,)


def test_tool_without_parameters_gets_empty_object() -> None:
    request, options = decode(tools=[{"type": "function", "name": "now"}])
    assert request.tools[0].parameters == {"type": "object", "properties": {}}
    assert options.tools[0]["strict"] is True


IGNORED: list[dict[str, Any]] = [
    {"metadata": {"k": "v"}},
    {"user": "u-1"},
    {"store": True},
    {"parallel_tool_calls": False},
    {"service_tier": "auto"},
    {"truncation": "disabled"},
    {"include": ["reasoning.encrypted_content", "web_search_call.results"]},
    {"background": False},
    {"previous_response_id": None},
    {"prompt_cache_key": "k", "safety_identifier": "s", "stream_options": {"include_obfuscation": False}},
    {"top_logprobs": 0},
    {"max_tool_calls": 3},
]


@pytest.mark.parametrize("fields", IGNORED)
def test_accepted_and_ignored(fields: dict[str, Any]) -> None:
    request, _ = decode(**fields)
    assert request == ChatRequest(model="qwen3", messages=(user("hi"),))


def test_echoed_settings() -> None:
    _, options = decode(
        metadata={"k": "v"}, user="u-1", parallel_tool_calls=False, temperature=0.3, max_output_tokens=9
    )
    assert options.metadata == {"k": "v"}
    assert options.user == "u-1"
    assert options.parallel_tool_calls is False
    assert (options.temperature, options.max_output_tokens) == (0.3, 9)


REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    ("previous_response_id", {"previous_response_id": "resp_1"}, "previous_response_id", "keeps no responses"),
    ("conversation", {"conversation": "conv_1"}, "conversation", "keeps no conversations"),
    ("background", {"background": True}, "background", "background"),
    ("stored prompt", {"prompt": {"id": "pmpt_1"}}, "prompt", "stored prompts"),
    ("compaction", {"context_management": [{"type": "compaction"}]}, "context_management", "compaction"),
    ("unknown field", {"frobnicate": 1}, "frobnicate", "Unrecognized request argument supplied: frobnicate"),
    ("top_logprobs", {"top_logprobs": 5}, "top_logprobs", "log probabilities"),
    ("truncation auto", {"truncation": "auto"}, "truncation", "only 'disabled'"),
    ("logprobs include", {"include": ["message.output_text.logprobs"]}, "include", "not supported"),
    ("web search tool", {"tools": [{"type": "web_search"}]}, "tools[0].type", "'web_search' is not supported"),
    ("file search tool", {"tools": [{"type": "file_search", "vector_store_ids": []}]}, "tools[0].type", "file_search"),
    ("computer use tool", {"tools": [{"type": "computer_use_preview"}]}, "tools[0].type", "computer_use_preview"),
    ("unknown tool key", {"tools": [{**TOOL, "defer_loading": True}]}, "tools[0].defer_loading", "Unrecognized"),
    (
        "choice names a missing tool",
        {"tools": [TOOL], "tool_choice": {"type": "function", "name": "x"}},
        "tool_choice",
        "not among",
    ),
    ("built-in tool choice", {"tool_choice": {"type": "web_search_preview"}}, "tool_choice", "Unsupported"),
    ("bad choice", {"tool_choice": "sometimes"}, "tool_choice", "Invalid value"),
    ("bad effort", {"reasoning": {"effort": "extreme"}}, "reasoning.effort", "Invalid value"),
    ("bad summary", {"reasoning": {"summary": "long"}}, "reasoning.summary", "Invalid value"),
    ("bad format", {"text": {"format": {"type": "xml"}}}, "text.format.type", "Invalid value"),
    ("schema missing", {"text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format.schema", "Missing"),
    ("max_output_tokens 0", {"max_output_tokens": 0}, "max_output_tokens", "at least 1"),
    ("option type", {"options": {"num_ctx": "big"}}, "options.num_ctx", "Invalid type"),
    ("unknown option", {"options": {"warp": 9}}, "options.warp", "Unknown Ollama option"),
    ("input missing", {"input": None}, "input", "Missing required parameter: 'input'"),
    ("input empty list", {"input": []}, "input", "too short"),
    ("input number", {"input": 3}, "input", "Invalid type"),
    (
        "file_id image",
        {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}]},
        "input[0].content[0].file_id",
        "file_id",
    ),
    (
        "input_file",
        {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
        "input[0].content[0].type",
        "file inputs",
    ),
    (
        "image in system",
        {"input": [{"role": "system", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}]},
        "input[0].content[0].type",
        "not allowed",
    ),
    ("bad role", {"input": [{"role": "tool", "content": "x"}]}, "input[0].role", "Invalid value"),
    ("item reference", {"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type", "stored state"),
    ("built-in call item", {"input": [{"type": "web_search_call", "id": "ws_1"}]}, "input[0].type", "not supported"),
    ("orphan output", {"input": [OUTPUT]}, "input[0].call_id", "does not match"),
    ("bad arguments", {"input": [{**CALL, "arguments": "[1]"}]}, "input[0].arguments", "invalid tool call arguments"),
    (
        "bad image data",
        {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png;base64,@@"}]}]},
        "input[0].content[0].image_url",
        "base64",
    ),
    ("model blank", {"model": " "}, "model", "model"),
    ("parallel_tool_calls type", {"parallel_tool_calls": "yes"}, "parallel_tool_calls", "boolean"),
    ("include type", {"include": "reasoning.encrypted_content"}, "include", "array of strings"),
    ("user type", {"user": 5}, "user", "string"),
    ("metadata type", {"metadata": ["a"]}, "metadata", "object"),
    (
        "tool_choice extra key",
        {"tools": [TOOL], "tool_choice": {"type": "function", "name": "weather", "x": 1}},
        "tool_choice.x",
        "Unrecognized",
    ),
    ("item not an object", {"input": ["hi"]}, "input[0]", "expected an object"),
    ("content missing", {"input": [{"role": "user"}]}, "input[0].content", "Missing"),
    ("content number", {"input": [{"role": "user", "content": 1}]}, "input[0].content", "Invalid type"),
    (
        "image url missing",
        {"input": [{"role": "user", "content": [{"type": "input_image"}]}]},
        "input[0].content[0].image_url",
        "Missing",
    ),
    (
        "text missing",
        {"input": [{"role": "user", "content": [{"type": "input_text"}]}]},
        "input[0].content[0].text",
        "Missing",
    ),
    (
        "refusal missing",
        {"input": [{"role": "assistant", "content": [{"type": "refusal"}]}]},
        "input[0].content[0].refusal",
        "Missing",
    ),
    ("empty call_id", {"input": [{**CALL, "call_id": ""}]}, "input[0].call_id", "Missing"),
    (
        "output missing",
        {"input": [CALL, {"type": "function_call_output", "call_id": "call_1"}]},
        "input[1].output",
        "Missing",
    ),
    (
        "call missing name",
        {"input": [{"type": "function_call", "call_id": "c", "arguments": "{}"}]},
        "input[0].name",
        "Missing",
    ),
    ("instructions list", {"instructions": [{"role": "system", "content": "x"}]}, "instructions", "string"),
]


@pytest.mark.parametrize(("name", "fields", "param", "text"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals(name: str, fields: dict[str, Any], param: str, text: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode(**fields)
    assert caught.value.param == param
    assert text in caught.value.message


def test_body_must_be_object() -> None:
    with pytest.raises(InvalidRequestError, match="JSON object"):
        decode_response_request([1])
