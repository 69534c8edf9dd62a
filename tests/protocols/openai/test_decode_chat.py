"""decode_chat: messages, parts, tools, sampling, reasoning and the 400s, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.core.messages import ImagePart, Message, TextPart, ToolCall, ToolSpec
from ollama_gateway.core.options import OLLAMA_OPTIONS
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai.decode import ChatOptions, decode_chat
from ollama_gateway.protocols.openai.decode_messages import ASSISTANT_ONLY_FIELDS
from ollama_gateway.protocols.openai.schemas import CHAT_IGNORED_FIELDS

USER = {"role": "user", "content": "hi"}
PNG = "iVBORw0KGgo="


def chat(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "llama3.2", "messages": [USER]}
    body.update(fields)
    return body


def options_of(**fields: Any) -> dict[str, Any]:
    request, _ = decode_chat(chat(**fields))
    return dict(request.controls.options)


def refused(body: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        decode_chat(body)
    return info.value


def test_minimal_request() -> None:
    request, options = decode_chat(chat())
    assert request.model == "llama3.2"
    assert request.messages == (Message(role="user", parts=(TextPart("hi"),)),)
    assert request.stream is False
    assert request.controls.options == {}
    assert request.controls.think is None
    assert request.tools == ()
    assert request.tool_choice is None
    assert request.format is None
    assert options == ChatOptions(include_usage=False)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"role": "system", "content": "be brief"}, Message(role="system", parts=(TextPart("be brief"),))),
        ({"role": "developer", "content": "be brief"}, Message(role="system", parts=(TextPart("be brief"),))),
        ({"role": "user", "content": ""}, Message(role="user")),
        (
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            Message(role="user", parts=(TextPart("a"), TextPart("b"))),
        ),
        ({"role": "assistant", "content": None}, Message(role="assistant")),
        ({"role": "assistant"}, Message(role="assistant")),
        (
            {"role": "assistant", "content": "ok", "reasoning_content": "hmm"},
            Message(role="assistant", parts=(TextPart("ok"),), thinking="hmm"),
        ),
        (
            {"role": "assistant", "content": "ok", "reasoning": "hmm"},
            Message(role="assistant", parts=(TextPart("ok"),), thinking="hmm"),
        ),
        (
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
            Message(role="assistant", parts=(TextPart("no"),)),
        ),
        ({"role": "assistant", "content": None, "refusal": "no"}, Message(role="assistant", parts=(TextPart("no"),))),
        ({"role": "user", "content": "hi", "name": "bob"}, Message(role="user", parts=(TextPart("hi"),))),
    ],
)
def test_message_mapping(message: dict[str, Any], expected: Message) -> None:
    request, _ = decode_chat(chat(messages=[message]))
    assert request.messages == (expected,)


@pytest.mark.parametrize(
    ("image_url", "expected"),
    [
        ({"url": f"data:image/png;base64,{PNG}"}, ImagePart(data=PNG, media_type="image/png")),
        (f"data:image/jpeg;base64,{PNG}", ImagePart(data=PNG, media_type="image/jpeg")),
        ({"url": f"data:;base64,{PNG}", "detail": "low"}, ImagePart(data=PNG)),
        ({"url": "https://example.com/cat.png"}, ImagePart(url="https://example.com/cat.png")),
        ("http://example.com/cat.png", ImagePart(url="http://example.com/cat.png")),
    ],
)
def test_image_parts(image_url: Any, expected: ImagePart) -> None:
    content = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": image_url}]
    request, _ = decode_chat(chat(messages=[{"role": "user", "content": content}]))
    assert request.messages[0].parts == (TextPart("what is this?"), expected)


def test_several_images_keep_order() -> None:
    content = [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/b.png"}},
    ]
    request, _ = decode_chat(chat(messages=[{"role": "user", "content": content}]))
    assert request.messages[0].images == (
        ImagePart(data=PNG, media_type="image/png"),
        ImagePart(url="https://example.com/b.png"),
    )


@pytest.mark.parametrize(
    ("image_url", "param"),
    [
        ("data:image/png;base64,not base64!", "messages[0].content[0].image_url"),
        ("data:image/png,plain", "messages[0].content[0].image_url"),
        ("data:image/png;base64", "messages[0].content[0].image_url"),
        ("data:image/png;base64,", "messages[0].content[0].image_url"),
        ("data:text/plain;base64,aGk=", "messages[0].content[0].image_url"),
        ("ftp://example.com/a.png", "messages[0].content[0].image_url"),
        ({"url": "file:///etc/passwd"}, "messages[0].content[0].image_url.url"),
        ({"url": 3}, "messages[0].content[0].image_url.url"),
        ({"detail": "low"}, "messages[0].content[0].image_url.url"),
        ({"url": "https://x/a.png", "detail": "huge"}, "messages[0].content[0].image_url.detail"),
        (None, "messages[0].content[0].image_url"),
    ],
)
def test_bad_images(image_url: Any, param: str) -> None:
    content = [{"type": "image_url", "image_url": image_url}]
    assert refused(chat(messages=[{"role": "user", "content": content}])).param == param


@pytest.mark.parametrize("part_type", ["input_audio", "file", "video_url", "weird"])
def test_unsupported_part_types_are_refused_by_name(part_type: str) -> None:
    content = [{"type": "text", "text": "x"}, {"type": part_type, part_type: {}}]
    err = refused(chat(messages=[{"role": "user", "content": content}]))
    assert err.param == "messages[0].content[1].type"
    assert part_type in err.message


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "system", "content": [{"type": "image_url", "image_url": "https://x/a.png"}]}, ".content[0].type"),
        ({"role": "user", "content": [{"type": "refusal", "refusal": "x"}]}, ".content[0].type"),
        ({"role": "user", "content": [{"type": "text"}]}, ".content[0].text"),
        ({"role": "user", "content": ["hi"]}, ".content[0]"),
        ({"role": "user", "content": 5}, ".content"),
        ({"role": "user"}, ".content"),
        ({"role": "user", "content": None}, ".content"),
        ({"content": "hi"}, ".role"),
        ({"role": "robot", "content": "hi"}, ".role"),
        ({"role": "user", "content": "hi", "tool_calls": []}, ".tool_calls"),
        ({"role": "user", "content": "hi", "reasoning_content": "x"}, ".reasoning_content"),
        ({"role": "user", "content": "hi", "tool_call_id": "c"}, ".tool_call_id"),
        ({"role": "user", "content": "hi", "colour": "red"}, ".colour"),
        ({"role": "assistant", "content": "hi", "audio": {"id": "a"}}, ".audio"),
    ],
)
def test_bad_messages(message: dict[str, Any], param: str) -> None:
    assert refused(chat(messages=[message])).param == "messages[0]" + param


ASSISTANT_ONLY_VALUES: dict[str, Any] = {
    "tool_calls": [],
    "function_call": {"name": "f", "arguments": "{}"},
    "reasoning_content": "x",
    "reasoning": "x",
    "thinking": "x",
    "refusal": "x",
}


@pytest.mark.parametrize("role", ["system", "developer", "user", "tool"])
@pytest.mark.parametrize("field", ASSISTANT_ONLY_FIELDS)
def test_assistant_only_fields_are_refused_elsewhere(role: str, field: str) -> None:
    message = {
        "role": role,
        "content": "hi",
        "tool_call_id": "c" if role == "tool" else None,
        field: ASSISTANT_ONLY_VALUES[field],
    }
    err = refused(chat(messages=[{k: v for k, v in message.items() if v is not None}]))
    assert err.param == f"messages[0].{field}"
    assert err.message == f"'messages[0].{field}' is only allowed on assistant messages."


def test_assistant_only_fields_are_reported_in_order() -> None:
    err = refused(chat(messages=[{"role": "user", "content": "hi", "refusal": "x", "thinking": "y"}]))
    assert err.param == "messages[0].thinking"


def test_empty_messages() -> None:
    err = refused(chat(messages=[]))
    assert (err.param, err.message) == ("messages", "[] is too short - 'messages'")


def call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def test_tool_history_resolves_tool_names() -> None:
    messages = [
        USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call("c1", "weather", '{"city": "Paris"}'), call("c2", "time", "{}")],
        },
        {"role": "tool", "tool_call_id": "c2", "content": "noon"},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "sunny"}]},
    ]
    request, _ = decode_chat(chat(messages=messages))
    assert request.messages[1] == Message(
        role="assistant",
        tool_calls=(
            ToolCall(id="c1", name="weather", arguments={"city": "Paris"}, index=0),
            ToolCall(id="c2", name="time", arguments={}, index=1),
        ),
    )
    assert request.messages[2] == Message(role="tool", parts=(TextPart("noon"),), tool_name="time", tool_call_id="c2")
    assert request.messages[3] == Message(
        role="tool", parts=(TextPart("sunny"),), tool_name="weather", tool_call_id="c1"
    )


@pytest.mark.parametrize(
    ("tool_message", "expected_name"),
    [
        ({"role": "tool", "tool_call_id": "unknown", "name": "weather", "content": "x"}, "weather"),
        ({"role": "tool", "name": "weather", "content": "x"}, "weather"),
        ({"role": "function", "name": "weather", "content": "x"}, "weather"),
    ],
)
def test_tool_name_fallback(tool_message: dict[str, Any], expected_name: str) -> None:
    request, _ = decode_chat(chat(messages=[USER, tool_message]))
    assert request.messages[1].tool_name == expected_name


@pytest.mark.parametrize(
    "tool_message",
    [
        {"role": "tool", "tool_call_id": "nope", "content": "x"},
        {"role": "tool", "content": "x"},
    ],
)
def test_unresolvable_tool_result(tool_message: dict[str, Any]) -> None:
    assert refused(chat(messages=[USER, tool_message])).param == "messages[1].tool_call_id"


@pytest.mark.parametrize("arguments", ['{"a": 1', "[1, 2]", '"text"', "null", None, 3])
def test_invalid_tool_call_arguments(arguments: Any) -> None:
    messages = [USER, {"role": "assistant", "tool_calls": [call("c1", "f", arguments)]}]
    err = refused(chat(messages=messages))
    assert err.message.startswith("invalid tool call arguments")
    assert err.param == "messages[1].tool_calls[0].function.arguments"


@pytest.mark.parametrize(("arguments", "expected"), [("", {}), ({"a": 1}, {"a": 1}), ('{"b": [1]}', {"b": [1]})])
def test_tolerated_tool_call_arguments(arguments: Any, expected: dict[str, Any]) -> None:
    messages = [USER, {"role": "assistant", "tool_calls": [call("c1", "f", arguments)]}]
    request, _ = decode_chat(chat(messages=messages))
    assert request.messages[1].tool_calls[0].arguments == expected


def test_legacy_function_call_history() -> None:
    messages = [
        USER,
        {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": '{"x": 1}'}},
        {"role": "function", "name": "f", "content": "42"},
    ]
    request, _ = decode_chat(chat(messages=messages))
    assert request.messages[1].tool_calls == (ToolCall(id="", name="f", arguments={"x": 1}),)
    assert request.messages[2] == Message(role="tool", parts=(TextPart("42"),), tool_name="f")


# --- sampling and Ollama options -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"temperature": 0.2}, {"temperature": 0.2}),
        ({"temperature": 1}, {"temperature": 1}),
        ({"top_p": 0.9}, {"top_p": 0.9}),
        ({"seed": 7}, {"seed": 7}),
        ({"stop": "END"}, {"stop": ["END"]}),
        ({"stop": ["a", "b"]}, {"stop": ["a", "b"]}),
        ({"stop": []}, {}),
        ({"stop": None}, {}),
        ({"presence_penalty": 0.5}, {"presence_penalty": 0.5}),
        ({"frequency_penalty": 0.25}, {"frequency_penalty": 0.25}),
        ({"max_tokens": 10}, {"num_predict": 10}),
        ({"max_completion_tokens": 11}, {"num_predict": 11}),
        ({"max_tokens": 10, "max_completion_tokens": 11}, {"num_predict": 11}),
        ({"temperature": None, "seed": None}, {}),
        ({"options": {"num_ctx": 8192, "top_k": 20}}, {"num_ctx": 8192, "top_k": 20}),
        ({"num_ctx": 8192, "options": {"num_ctx": 2048}}, {"num_ctx": 8192}),
        ({"temperature": 0.1, "options": {"temperature": 0.9}}, {"temperature": 0.1}),
        ({"max_tokens": 5, "num_predict": 9, "options": {"num_predict": 1}}, {"num_predict": 5}),
        ({"options": {"stop": "x"}}, {"stop": ["x"]}),
        ({"options": {"penalize_newline": True, "mirostat": 2}}, {}),
        ({"options": None}, {}),
        ({"options": {"seed": None}}, {}),
    ],
)
def test_sampling_to_options(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    assert options_of(**fields) == expected


SAMPLE_VALUES: dict[str, Any] = {"int": 3, "float": 0.5, "bool": True, "str_list": ["x"]}
WRONG_VALUES: dict[str, Any] = {"int": 0.5, "float": "0.5", "bool": 1, "str_list": [1]}


@pytest.mark.parametrize(("name", "kind"), sorted(OLLAMA_OPTIONS.items()))
def test_every_ollama_option_top_level_and_nested(name: str, kind: str) -> None:
    value = SAMPLE_VALUES[kind]
    assert options_of(**{name: value}) == {name: value}
    assert options_of(options={name: value}) == {name: value}


@pytest.mark.parametrize(("name", "kind"), sorted(OLLAMA_OPTIONS.items()))
def test_every_ollama_option_is_type_checked(name: str, kind: str) -> None:
    wrong = WRONG_VALUES[kind]
    assert refused(chat(options={name: wrong})).param == f"options.{name}"
    assert refused(chat(**{name: wrong})).param == name


@pytest.mark.parametrize("value", [True, "3", 3.5])
def test_int_options_reject_booleans_strings_floats(value: Any) -> None:
    assert refused(chat(options={"num_ctx": value})).param == "options.num_ctx"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"options": {"bogus": 1}}, "options.bogus"),
        ({"options": [1]}, "options"),
        ({"temperature": "hot"}, "temperature"),
        ({"seed": 1.5}, "seed"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": -1}, "max_completion_tokens"),
        ({"max_tokens": "10"}, "max_tokens"),
        ({"stop": 5}, "stop"),
        ({"stop": ["a", 1]}, "stop"),
        ({"stream": "yes"}, "stream"),
        ({"model": 5}, "model"),
        ({"model": " "}, "model"),
        ({"stream_options": {"include_usage": "y"}}, "stream_options.include_usage"),
        ({"stream_options": {"bogus": True}}, "stream_options.bogus"),
        ({"keep_alive": True}, "keep_alive"),
        ({"keep_alive": ""}, "keep_alive"),
        ({"keep_alive": [1]}, "keep_alive"),
    ],
)
def test_bad_sampling_types(fields: dict[str, Any], param: str) -> None:
    assert refused(chat(**fields)).param == param


def test_missing_model() -> None:
    err = refused({"messages": [USER]})
    assert (err.param, err.message) == ("model", "Missing required parameter: 'model'.")


@pytest.mark.parametrize("body", [[], "x", None, 3])
def test_non_object_body(body: Any) -> None:
    assert refused(body).param is None


@pytest.mark.parametrize("value", [300, -1, 0, "5m", "1h30m", 2.5])
def test_keep_alive(value: Any) -> None:
    request, _ = decode_chat(chat(keep_alive=value))
    assert request.controls.keep_alive == value


# --- response_format, logprobs, stream options --------------------------------------------------

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ({"type": "text"}, None),
        ({"type": "json_object"}, "json"),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": SCHEMA, "strict": True}}, SCHEMA),
        (None, None),
    ],
)
def test_response_format(response_format: Any, expected: Any) -> None:
    request, _ = decode_chat(chat(response_format=response_format))
    assert request.format == expected


@pytest.mark.parametrize(
    ("response_format", "param"),
    [
        ({"type": "xml"}, "response_format.type"),
        ({"type": "json_schema"}, "response_format.json_schema.schema"),
        ({"type": "json_schema", "json_schema": {"name": "x"}}, "response_format.json_schema.schema"),
        ({"type": "json_schema", "json_schema": {"schema": []}}, "response_format.json_schema.schema"),
        ("json", "response_format"),
    ],
)
def test_bad_response_format(response_format: Any, param: str) -> None:
    assert refused(chat(response_format=response_format)).param == param


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (None, None)),
        ({"logprobs": True}, (True, None)),
        ({"logprobs": True, "top_logprobs": 0}, (True, 0)),
        ({"logprobs": True, "top_logprobs": 20}, (True, 20)),
        ({"logprobs": False}, (False, None)),
    ],
)
def test_logprobs(fields: dict[str, Any], expected: tuple[Any, Any]) -> None:
    request, _ = decode_chat(chat(**fields))
    assert (request.logprobs, request.top_logprobs) == expected


@pytest.mark.parametrize(
    "fields",
    [{"logprobs": True, "top_logprobs": 21}, {"logprobs": True, "top_logprobs": -1}, {"top_logprobs": 2}],
)
def test_bad_logprobs(fields: dict[str, Any]) -> None:
    assert refused(chat(**fields)).param == "top_logprobs"


@pytest.mark.parametrize(
    ("fields", "stream", "include_usage"),
    [
        ({"stream": True}, True, False),
        ({"stream": True, "stream_options": {"include_usage": True}}, True, True),
        ({"stream": True, "stream_options": {"include_usage": False}}, True, False),
        ({"stream": False, "stream_options": {"include_usage": True}}, False, False),
        ({"stream": None}, False, False),
    ],
)
def test_stream_options(fields: dict[str, Any], stream: bool, include_usage: bool) -> None:
    request, options = decode_chat(chat(**fields))
    assert request.stream is stream
    assert options.include_usage is include_usage


# --- reasoning ------------------------------------------------------------------------------------

THINK_TABLE: list[tuple[dict[str, Any], Any]] = [
    ({"think": True}, True),
    ({"think": False}, False),
    ({"think": "none"}, False),
    ({"think": "low"}, "low"),
    ({"think": "medium"}, "medium"),
    ({"think": "high"}, "high"),
    ({"think": "max"}, "max"),
    ({"reasoning_effort": "none"}, False),
    ({"reasoning_effort": "minimal"}, "low"),
    ({"reasoning_effort": "low"}, "low"),
    ({"reasoning_effort": "medium"}, "medium"),
    ({"reasoning_effort": "high"}, "high"),
    ({"reasoning_effort": "max"}, "max"),
    ({"reasoning_effort": "xhigh"}, "max"),
    ({"reasoning_effort": "ultra"}, "max"),
    ({"reasoning_effort": ""}, None),
    ({"reasoning_effort": None}, None),
    ({"reasoning": {"effort": "minimal"}}, "low"),
    ({"reasoning": {"effort": "xhigh"}}, "max"),
    ({"reasoning": {"enabled": True}}, True),
    ({"reasoning": {"enabled": False}}, False),
    ({"reasoning": {}}, None),
    ({"think": False, "reasoning_effort": "high"}, False),
    ({"think": "low", "reasoning": {"effort": "high"}}, "low"),
    ({"reasoning_effort": "high", "reasoning": {"effort": "low"}}, "high"),
    ({"reasoning_effort": "", "reasoning": {"effort": "low"}}, "low"),
]


@pytest.mark.parametrize(("fields", "expected"), THINK_TABLE)
def test_think_mapping(fields: dict[str, Any], expected: Any) -> None:
    request, _ = decode_chat(chat(**fields))
    assert request.controls.think == expected


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"think": "extreme"}, "think"),
        ({"think": 1}, "think"),
        ({"reasoning_effort": "turbo"}, "reasoning_effort"),
        ({"reasoning_effort": 3}, "reasoning_effort"),
        ({"reasoning": {"effort": "lots"}}, "reasoning.effort"),
        ({"reasoning": {"max_tokens": 100}}, "reasoning.max_tokens"),
        ({"reasoning": {"summary": "auto"}}, "reasoning.summary"),
        ({"reasoning": "high"}, "reasoning"),
    ],
)
def test_bad_reasoning(fields: dict[str, Any], param: str) -> None:
    assert refused(chat(**fields)).param == param


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, None),
        ({"exclude_reasoning": True}, True),
        ({"exclude_reasoning": False}, False),
        ({"reasoning": {"exclude": True}}, True),
        ({"reasoning": {"exclude": False}}, None),
        ({"exclude_reasoning": False, "reasoning": {"exclude": True}}, True),
    ],
)
def test_exclude_reasoning(fields: dict[str, Any], expected: bool | None) -> None:
    request, _ = decode_chat(chat(**fields))
    assert request.controls.exclude_reasoning is expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, None),
        ({"timeout_ms": 1500}, 1500),
        ({"request_timeout": 30000}, 30000),
        ({"request_timeout": 1500.4}, 1500),
        ({"timeout_ms": 10, "request_timeout": 30}, 10),
    ],
)
def test_timeout_extension(fields: dict[str, Any], expected: int | None) -> None:
    request, _ = decode_chat(chat(**fields))
    assert request.controls.timeout_ms == expected


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"timeout_ms": 0}, "timeout_ms"),
        ({"timeout_ms": -1}, "timeout_ms"),
        ({"timeout_ms": 1.5}, "timeout_ms"),
        ({"timeout_ms": True}, "timeout_ms"),
        ({"request_timeout": 0}, "request_timeout"),
        ({"request_timeout": "never"}, "request_timeout"),
    ],
)
def test_timeout_cannot_be_disabled(fields: dict[str, Any], param: str) -> None:
    assert refused(chat(**fields)).param == param


# --- tools ----------------------------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TIME = {"type": "function", "function": {"name": "time"}}


def test_tools() -> None:
    request, _ = decode_chat(chat(tools=[WEATHER, TIME]))
    assert request.tools == (
        ToolSpec(
            name="weather",
            description="Weather in a city",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}},
        ),
        ToolSpec(name="time", parameters={"type": "object", "properties": {}}),
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"tools": [WEATHER]}, None),
        ({"tools": [WEATHER], "tool_choice": "none"}, "none"),
        ({"tools": [WEATHER], "tool_choice": "auto"}, "auto"),
        ({"tools": [WEATHER], "tool_choice": "required"}, "required"),
        ({"tools": [WEATHER, TIME], "tool_choice": {"type": "function", "function": {"name": "time"}}}, "time"),
        ({"tool_choice": "none"}, "none"),
        ({"tool_choice": "auto"}, "auto"),
        ({"functions": [WEATHER["function"]], "function_call": "auto"}, "auto"),
        ({"functions": [WEATHER["function"]], "function_call": {"name": "weather"}}, "weather"),
        ({"tools": [WEATHER], "tool_choice": "auto", "function_call": "none"}, "auto"),
    ],
)
def test_tool_choice(fields: dict[str, Any], expected: Any) -> None:
    request, _ = decode_chat(chat(**fields))
    assert request.tool_choice == expected


def test_legacy_functions_become_tools() -> None:
    request, _ = decode_chat(chat(functions=[WEATHER["function"]]))
    assert [tool.name for tool in request.tools] == ["weather"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": {"type": "allowed_tools"}}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {}}}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": 3}, "tool_choice"),
        ({"functions": [WEATHER["function"]], "function_call": {"name": "nope"}}, "function_call"),
        ({"tools": [{"type": "custom", "custom": {"name": "x"}}]}, "tools[0].type"),
        ({"tools": [{"type": "function"}]}, "tools[0].function"),
        ({"tools": [{"type": "function", "function": {"description": "x"}}]}, "tools[0].function.name"),
        ({"tools": [{"type": "function", "function": {"name": ""}}]}, "tools[0].function.name"),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]},
            "tools[0].function.parameters",
        ),
        ({"tools": [WEATHER, WEATHER]}, "tools"),
        ({"tools": [WEATHER], "functions": [WEATHER["function"]]}, "functions"),
        ({"tools": WEATHER}, "tools"),
    ],
)
def test_bad_tools(fields: dict[str, Any], param: str) -> None:
    assert refused(chat(**fields)).param == param


# --- unknown, ignored and refused fields ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHAT_IGNORED_FIELDS - {"modalities"}))
def test_ignored_fields(name: str) -> None:
    request, _ = decode_chat(chat(**{name: "anything"}))
    assert request == decode_chat(chat())[0]


@pytest.mark.parametrize("modalities", [["text"], None])
def test_text_modality_is_fine(modalities: Any) -> None:
    decode_chat(chat(modalities=modalities))


@pytest.mark.parametrize(
    ("fields", "param", "message"),
    [
        ({"frobnicate": True}, "frobnicate", "Unrecognized request argument supplied: frobnicate"),
        ({"audio": {"voice": "x"}}, "audio", "Unrecognized request argument supplied: audio"),
        ({"prediction": {}}, "prediction", "Unrecognized request argument supplied: prediction"),
        ({"modalities": ["text", "audio"]}, "modalities", "Only text output is supported"),
        ({"n": 2}, "n", "n > 1 is not supported; send n requests."),
        ({"n": 0}, "n", "'n' must be at least 1."),
        ({"logit_bias": {"50256": -100}}, "logit_bias", "logit_bias is not supported."),
    ],
)
def test_refused_fields(fields: dict[str, Any], param: str, message: str) -> None:
    err = refused(chat(**fields))
    assert err.param == param
    assert err.message.startswith(message)
    assert err.http_status == 400


@pytest.mark.parametrize("fields", [{"n": 1}, {"n": None}, {"logit_bias": {}}, {"logit_bias": None}])
def test_harmless_values(fields: dict[str, Any]) -> None:
    decode_chat(chat(**fields))


def test_assistant_only_fields_sent_as_null_are_tolerated_elsewhere() -> None:
    message = {"role": "user", "content": "hi", **{name: None for name in ASSISTANT_ONLY_FIELDS}}
    request, _ = decode_chat(chat(messages=[message]))
    assert request.messages == (Message(role="user", parts=(TextPart("hi"),)),)
