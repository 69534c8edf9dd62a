"""Anthropic Messages request → core ChatRequest: every mapping, ordering, and the 400s."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.core.messages import ImagePart, Message, TextPart, ToolCall, ToolSpec
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.anthropic import decode_messages
from ollama_gateway.protocols.anthropic.controls import budget_level

USER = {"role": "user", "content": "hi"}
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "llama3", "max_tokens": 64, "messages": [USER], **fields}


def user(text: str) -> Message:
    return Message(role="user", parts=(TextPart(text),))


def test_minimal_request() -> None:
    chat, options = decode_messages(body())
    assert chat.model == "llama3"
    assert chat.messages == (user("hi"),)
    assert chat.stream is False
    assert dict(chat.controls.options) == {"num_predict": 64}
    assert chat.controls.think is None
    assert chat.stop_sequences == ()
    assert options.thinking_display == "summarized"


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("be brief", (Message(role="system", parts=(TextPart("be brief"),)), user("hi"))),
        (
            [{"type": "text", "text": "a"}, {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}}],
            (Message(role="system", parts=(TextPart("a\n\nb"),)), user("hi")),
        ),
        ("", (user("hi"),)),
    ],
)
def test_system(system: Any, expected: tuple[Message, ...]) -> None:
    assert decode_messages(body(system=system))[0].messages == expected


def test_images_base64_and_url() -> None:
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "text", "text": "what?"},
    ]
    chat, _ = decode_messages(body(messages=[{"role": "user", "content": content}]))
    assert chat.messages == (
        Message(
            role="user",
            parts=(
                ImagePart(data="AAAA", media_type="image/png"),
                ImagePart(url="https://example.com/cat.jpg"),
                TextPart("what?"),
            ),
        ),
    )


TOOL_TURNS: list[dict[str, Any]] = [
    {"role": "user", "content": "weather in Paris and Rome?"},
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "two calls", "signature": "sig"},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_a", "name": "weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_b", "name": "weather", "input": {"city": "Rome"}},
        ],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_a", "content": "sunny"},
            {
                "type": "tool_result",
                "tool_use_id": "toolu_b",
                "content": [{"type": "text", "text": "rain"}],
                "is_error": True,
            },
            {"type": "text", "text": "and now?"},
        ],
    },
]


def test_tool_round_trip_keeps_order() -> None:
    chat, _ = decode_messages(body(messages=TOOL_TURNS))
    assert chat.messages == (
        user("weather in Paris and Rome?"),
        Message(
            role="assistant",
            parts=(TextPart("Checking."),),
            thinking="two calls",
            tool_calls=(
                ToolCall(id="toolu_a", name="weather", arguments={"city": "Paris"}, index=0),
                ToolCall(id="toolu_b", name="weather", arguments={"city": "Rome"}, index=1),
            ),
        ),
        Message(role="tool", parts=(TextPart("sunny"),), tool_name="weather", tool_call_id="toolu_a"),
        Message(role="tool", parts=(TextPart("rain"),), tool_name="weather", tool_call_id="toolu_b", is_error=True),
        user("and now?"),
    )


def test_text_before_tool_result_stays_before() -> None:
    turns = [
        TOOL_TURNS[0],
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "first"},
                {"type": "tool_result", "tool_use_id": "t1"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "QQ=="}},
            ],
        },
    ]
    roles = [(m.role, m.text) for m in decode_messages(body(messages=turns))[0].messages]
    assert roles == [
        ("user", TOOL_TURNS[0]["content"]),
        ("assistant", ""),
        ("user", "first"),
        ("tool", ""),
        ("user", ""),
    ]


def test_tool_result_with_image_content() -> None:
    turns = [
        USER,
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "shot", "input": {}}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": [
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "QQ"}}
                    ],
                }
            ],
        },
    ]
    tool = decode_messages(body(messages=turns))[0].messages[-1]
    assert tool.images == (ImagePart(data="QQ", media_type="image/png"),)


def test_assistant_blocks_out_of_render_order_split_messages() -> None:
    turn = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "A", "signature": "s"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
            {"type": "thinking", "thinking": "B", "signature": "s"},
            {"type": "text", "text": "done"},
        ],
    }
    messages = decode_messages(body(messages=[USER, turn]))[0].messages[1:]
    assert [(m.thinking, m.text, len(m.tool_calls)) for m in messages] == [("A", "", 1), ("B", "done", 0)]


def test_redacted_and_empty_thinking_are_skipped() -> None:
    turn = {
        "role": "assistant",
        "content": [
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "thinking", "thinking": "", "signature": "s"},
            {"type": "text", "text": "ok"},
        ],
    }
    messages = decode_messages(body(messages=[USER, turn]))[0].messages
    assert messages[1] == Message(role="assistant", parts=(TextPart("ok"),))


def test_prefill_assistant_string() -> None:
    chat, _ = decode_messages(body(messages=[USER, {"role": "assistant", "content": "The answer is"}]))
    assert chat.messages[-1] == Message(role="assistant", parts=(TextPart("The answer is"),))


def test_tools_anthropic_and_openai_forms() -> None:
    tools = [
        {
            "name": "weather",
            "description": "Get weather",
            "input_schema": SCHEMA,
            "cache_control": {"type": "ephemeral"},
        },
        {"type": "function", "function": {"name": "time", "parameters": SCHEMA}},
        {"type": "custom", "name": "noop", "input_schema": {"type": "object"}, "input_examples": [{"a": 1}]},
    ]
    chat, _ = decode_messages(body(tools=tools))
    assert chat.tools == (
        ToolSpec(name="weather", parameters=SCHEMA, description="Get weather"),
        ToolSpec(name="time", parameters=SCHEMA),
        ToolSpec(name="noop", parameters={"type": "object"}, description='Input examples:\n{"a":1}'),
    )


TOOLS = [{"name": "weather", "input_schema": SCHEMA}]


@pytest.mark.parametrize(
    ("choice", "expected", "no_parallel"),
    [
        ({"type": "auto"}, "auto", False),
        ({"type": "auto", "disable_parallel_tool_use": True}, "auto", True),
        ({"type": "any"}, "required", False),
        ({"type": "tool", "name": "weather"}, "weather", False),
        ({"type": "none"}, "none", False),
    ],
)
def test_tool_choice(choice: dict[str, Any], expected: str, no_parallel: bool) -> None:
    chat, options = decode_messages(body(tools=TOOLS, tool_choice=choice))
    assert chat.tool_choice == expected
    assert options.disable_parallel_tool_use is no_parallel


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"temperature": 0.2, "top_p": 0.9, "top_k": 40}, {"temperature": 0.2, "top_p": 0.9, "top_k": 40}),
        ({"temperature": 1}, {"temperature": 1}),
        (
            {"num_ctx": 8192, "seed": 7, "min_p": 0.1, "use_mmap": False},
            {"num_ctx": 8192, "seed": 7, "min_p": 0.1, "use_mmap": False},
        ),
        (
            {"options": {"num_ctx": 4096, "stop": ["###"], "repeat_penalty": 1.1}},
            {"num_ctx": 4096, "stop": ["###"], "repeat_penalty": 1.1},
        ),
        ({"temperature": 0.5, "options": {"temperature": 0.5}}, {"temperature": 0.5}),
        ({"num_predict": -1}, {"num_predict": -1}),
        ({"options": {"num_predict": 5}}, {"num_predict": 5}),
    ],
)
def test_options(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    chat, _ = decode_messages(body(**fields))
    assert dict(chat.controls.options) == {"num_predict": 64, **expected}


def test_stop_sequences_stream_keep_alive_metadata() -> None:
    chat, options = decode_messages(
        body(
            stop_sequences=["END", "\n\n"],
            stream=True,
            keep_alive="10m",
            metadata={"user_id": "u"},
            service_tier="auto",
        )
    )
    assert chat.stop_sequences == ("END", "\n\n")
    assert "stop" not in chat.controls.options
    assert chat.stream is True
    assert chat.controls.keep_alive == "10m"
    assert options.stop_sequences == ("END", "\n\n")


@pytest.mark.parametrize(
    ("budget", "level"),
    [(1024, "low"), (4095, "low"), (4096, "medium"), (16383, "medium"), (16384, "high"), (10**6, "high")],
)
def test_budget_table(budget: int, level: str) -> None:
    assert budget_level(budget) == level
    assert decode_messages(body(thinking={"type": "enabled", "budget_tokens": budget}))[0].controls.think == level


TOOL_RESULT_LAST = [*TOOL_TURNS[:2], {"role": "user", "content": TOOL_TURNS[2]["content"][:2]}]


@pytest.mark.parametrize(
    ("fields", "think", "display"),
    [
        ({"thinking": {"type": "adaptive"}}, True, "summarized"),
        ({"thinking": {"type": "adaptive", "display": "omitted"}}, True, "omitted"),
        ({"thinking": {"type": "enabled", "budget_tokens": 2048, "display": "summarized"}}, "low", "summarized"),
        ({"thinking": {"type": "disabled"}}, False, "summarized"),
        ({"thinking": {"type": "between_tools"}}, False, "summarized"),
        ({"thinking": {"type": "between_tools"}, "messages": TOOL_RESULT_LAST}, True, "summarized"),
        ({"thinking": {"type": "between_tools"}, "output_config": {"effort": "max"}}, False, "summarized"),
        (
            {"thinking": {"type": "between_tools"}, "output_config": {"effort": "max"}, "messages": TOOL_RESULT_LAST},
            "max",
            "summarized",
        ),
        ({"output_config": {"effort": "low"}}, "low", "summarized"),
        ({"output_config": {"effort": "xhigh"}}, "high", "summarized"),
        ({"output_config": {"effort": "max"}}, "max", "summarized"),
        (
            {"thinking": {"type": "enabled", "budget_tokens": 50000}, "output_config": {"effort": "low"}},
            "low",
            "summarized",
        ),
        ({"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}}, "medium", "summarized"),
        ({"thinking": {"type": "disabled"}, "output_config": {"effort": "high"}}, False, "summarized"),
        ({"thinking": {"type": "adaptive"}, "think": "low"}, "low", "summarized"),
        ({"think": False}, False, "summarized"),
        ({"think": "max"}, "max", "summarized"),
    ],
)
def test_thinking(fields: dict[str, Any], think: object, display: str) -> None:
    chat, options = decode_messages(body(**fields))
    assert chat.controls.think == think
    assert options.thinking_display == display


def test_output_format() -> None:
    chat, _ = decode_messages(body(output_config={"format": {"type": "json_schema", "schema": SCHEMA}}))
    assert chat.format == SCHEMA
    assert chat.controls.think is None


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ([], "JSON object"),
        ({"max_tokens": 5, "messages": [USER]}, "model"),
        ({"model": "m", "messages": [USER]}, "max_tokens"),
        (body(max_tokens=0), "max_tokens"),
        (body(max_tokens="5"), "max_tokens"),
        (body(messages="hi"), "messages"),
        (body(messages=[{"role": "tool", "content": "x"}]), "messages.0.role"),
        (
            body(messages=[{"role": "system", "content": [{"type": "image", "source": {"type": "url", "url": "x"}}]}]),
            "messages.0.content.0: system messages may hold only text",
        ),
        (body(foo=1, bar=2), "bar, foo"),
        (body(mcp_servers=[]), "mcp_servers"),
        (body(context_management={"edits": [{"type": "compact_20260112"}]}), "compact_20260112"),
        (body(context_management={"edits": [{"type": "clear_thinking_20251015", "keep": 2}]}), "keep"),
        (body(tools=[{"type": "web_search_20250305", "name": "web_search"}]), "runs on Anthropic's servers"),
        (body(tools=[{"type": "bash_20250124", "name": "bash"}]), "only client tools"),
        (body(messages=[{"role": "user", "content": [{"type": "document", "source": {}}]}]), "document"),
        (body(messages=[{"role": "user", "content": [{"type": "search_result"}]}]), "search_result"),
        (body(messages=[{"role": "user", "content": [{"type": "text"}]}]), "messages.0.content.0.text"),
        (body(messages=[{"role": "user", "content": [{"type": "text", "text": "a", "x": 1}]}]), "content.0.x"),
        (
            body(
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "image", "source": {"type": "url", "url": "file:///etc/passwd"}}],
                    }
                ]
            ),
            "http",
        ),
        (
            body(
                messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "f"}}]}]
            ),
            "file",
        ),
        (body(messages=[{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "nope"}]}]), "nope"),
        (
            body(messages=[{"role": "user", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}}]}]),
            "assistant",
        ),
        (
            body(messages=[USER, {"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "x"}]}]),
            "user turns",
        ),
        (body(tools=[{"type": "web_search_20250305", "name": "web_search"}]), "web_search_20250305"),
        (body(tools=[{"type": "bash_20250124", "name": "bash"}]), "bash_20250124"),
        (body(tools=[{"name": "f"}]), "input_schema"),
        (body(tools=[*TOOLS, *TOOLS]), "duplicate"),
        (body(tools=TOOLS, tool_choice={"type": "tool", "name": "other"}), "other"),
        (body(tool_choice={"type": "any"}), "requires tools"),
        (body(tool_choice={"type": "sometimes"}), "sometimes"),
        (body(thinking={"type": "enabled"}), "budget_tokens"),
        (body(thinking={"type": "enabled", "budget_tokens": 0}), "budget_tokens"),
        (body(thinking={"type": "adaptive", "display": "full"}), "display"),
        (body(output_config={"effort": "extreme"}), "effort"),
        (body(output_config={"format": {"type": "json_object"}}), "format"),
        (body(temperature="hot"), "temperature"),
        (body(top_k=1.5), "top_k"),
        (body(num_ctx="big"), "num_ctx"),
        (body(use_mmap=1), "use_mmap"),
        (body(options={"num_gpu": True}), "options.num_gpu"),
        (body(options={"stop": "x"}), "options.stop"),
        (body(options={"mirostat": 1}), "options.mirostat"),
        (body(temperature=0.1, options={"temperature": 0.9}), "conflicts"),
        (body(think="extreme"), "think"),
        (body(keep_alive=True), "keep_alive"),
        (body(stop_sequences="END"), "stop_sequences"),
        (body(stream="yes"), "stream"),
    ],
)
def test_invalid(payload: Any, fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_messages(payload)
    assert fragment in info.value.message
    assert info.value.http_status == 400
