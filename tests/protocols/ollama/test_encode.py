"""Core requests → Ollama native bodies."""

from __future__ import annotations

import pytest

from ollama_gateway.core.messages import ImagePart, Message, TextPart, ToolCall, ToolSpec
from ollama_gateway.core.requests import ChatRequest, EmbedRequest, GenerateRequest, GenerationControls
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.ollama.encode import chat_body, embed_body, generate_body

TOOL = ToolSpec(name="get_weather", parameters={"type": "object", "properties": {}}, description="weather")
OTHER = ToolSpec(name="other", parameters={"type": "object"})


def test_chat_body_full_mapping() -> None:
    request = ChatRequest(
        model="qwen3:latest",
        messages=(
            Message("system", (TextPart("be brief"),)),
            Message("user", (TextPart("look"), ImagePart(data="AAAA"), ImagePart(data="BBBB"))),
            Message("assistant", thinking="hmm", tool_calls=(ToolCall("call_1", "get_weather", {"city": "Paris"}),)),
            Message("tool", (TextPart("sunny"),), tool_name="get_weather", tool_call_id="call_1"),
        ),
        stream=True,
        controls=GenerationControls(
            options={"num_ctx": 8192, "temperature": 0.2, "exclude_reasoning": True, "timeout_ms": 5},
            think="high",
            keep_alive="5m",
        ),
        tools=(TOOL,),
        format="json",
        logprobs=True,
        top_logprobs=3,
    )
    assert chat_body(request) == {
        "model": "qwen3:latest",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "look", "images": ["AAAA", "BBBB"]},
            {
                "role": "assistant",
                "content": "",
                "thinking": "hmm",
                "tool_calls": [
                    {"id": "call_1", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}}
                ],
            },
            {"role": "tool", "content": "sunny", "tool_name": "get_weather", "tool_call_id": "call_1"},
        ],
        "stream": True,
        "tools": [
            {
                "type": "function",
                "function": {"name": "get_weather", "parameters": TOOL.parameters, "description": "weather"},
            }
        ],
        "options": {"num_ctx": 8192, "temperature": 0.2},
        "think": "high",
        "keep_alive": "5m",
        "format": "json",
        "logprobs": True,
        "top_logprobs": 3,
    }


@pytest.mark.parametrize(
    ("choice", "names"),
    [
        (None, ["get_weather", "other"]),
        ("auto", ["get_weather", "other"]),
        ("required", ["get_weather", "other"]),
        ("none", []),
        ("other", ["other"]),
    ],
)
def test_tool_choice_selects_tools(choice: str | None, names: list[str]) -> None:
    body = chat_body(ChatRequest(model="m", messages=(), tools=(TOOL, OTHER), tool_choice=choice))
    assert [t["function"]["name"] for t in body.get("tools", [])] == names


def test_unknown_tool_choice_is_refused() -> None:
    with pytest.raises(InvalidRequestError):
        chat_body(ChatRequest(model="m", messages=(), tools=(TOOL,), tool_choice="nope"))


def test_stream_is_always_explicit() -> None:
    assert chat_body(ChatRequest(model="m", messages=()))["stream"] is False
    assert generate_body(GenerateRequest(model="m", prompt="p"))["stream"] is False


def test_unfetched_image_url_never_reaches_ollama() -> None:
    with pytest.raises(InvalidRequestError):
        chat_body(ChatRequest(model="m", messages=(Message("user", (ImagePart(url="https://x/y.png"),)),)))


def test_generate_and_embed_bodies() -> None:
    generate = GenerateRequest(
        model="m", prompt="p", stream=True, suffix="s", system="sys", raw=False, images=(ImagePart(data="AA"),)
    )
    assert generate_body(generate) == {
        "model": "m",
        "prompt": "p",
        "stream": True,
        "suffix": "s",
        "system": "sys",
        "raw": False,
        "images": ["AA"],
    }
    embed = EmbedRequest(
        model="e",
        inputs=("a", "b"),
        dimensions=4,
        truncate=False,
        controls=GenerationControls(options={"num_ctx": 10}, keep_alive=0),
    )
    assert embed_body(embed) == {
        "model": "e",
        "input": ["a", "b"],
        "dimensions": 4,
        "truncate": False,
        "options": {"num_ctx": 10},
        "keep_alive": 0,
    }
