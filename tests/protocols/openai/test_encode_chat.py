"""ChatStreamEncoder transcripts and encode_chat_completion, checked against the openai SDK's own types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

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
from ollama_gateway.core.results import fold
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import UpstreamStreamError
from ollama_gateway.protocols.base import StreamEncoder
from ollama_gateway.protocols.openai.encode import ChatStreamEncoder, encode_chat_completion
from tests.protocols.openai.sdk import parse_sse, sdk_client, sse_handler

ID = "chatcmpl-abc"
CREATED = 1_700_000_000
MODEL = "llama3.2"
USAGE = Usage(prompt_tokens=12, completion_tokens=5)


def encoder(**kwargs: Any) -> ChatStreamEncoder:
    return ChatStreamEncoder(ID, CREATED, MODEL, **kwargs)


def run(enc: StreamEncoder, events: Sequence[Event]) -> bytes:
    return enc.on_start() + b"".join(enc.on_event(event) for event in events) + enc.on_end()


def chunk(delta: dict[str, Any], finish: str | None = None, logprobs: Any = None) -> dict[str, Any]:
    return {
        "id": ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}],
    }


USAGE_CHUNK = {
    "id": ID,
    "object": "chat.completion.chunk",
    "created": CREATED,
    "model": MODEL,
    "choices": [],
    "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
}
ROLE = chunk({"role": "assistant", "content": ""})
CALL_A = ToolCall(id="call_a", name="weather", arguments={"city": "Paris"}, index=0)
CALL_B = ToolCall(id="call_b", name="time", arguments={}, index=0)
CALL_A_WIRE = {"id": "call_a", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}


def test_text_only_exact_bytes() -> None:
    frames = run(encoder(), [TextDelta("Hi"), Finished("stop", USAGE)])
    assert frames == (
        b'data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":"llama3.2",'
        b'"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n'
        b'data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":"llama3.2",'
        b'"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}\n\n'
        b'data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":"llama3.2",'
        b'"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    )


TRANSCRIPTS: list[tuple[str, dict[str, Any], list[Event], list[Any]]] = [
    (
        "text",
        {},
        [TextDelta("Hel"), TextDelta(""), TextDelta("lo"), Finished("stop", USAGE)],
        [ROLE, chunk({"content": "Hel"}), chunk({"content": "lo"}), chunk({}, "stop"), "[DONE]"],
    ),
    (
        "thinking then text",
        {},
        [ThinkingDelta("Let me"), ThinkingDelta(" think"), TextDelta("42"), Finished("stop", USAGE)],
        [
            ROLE,
            chunk({"reasoning_content": "Let me"}),
            chunk({"reasoning_content": " think"}),
            chunk({"content": "42"}),
            chunk({}, "stop"),
            "[DONE]",
        ],
    ),
    (
        "exclude reasoning",
        {"exclude_reasoning": True},
        [ThinkingDelta("secret"), TextDelta("42"), Finished("stop", USAGE)],
        [ROLE, chunk({"content": "42"}), chunk({}, "stop"), "[DONE]"],
    ),
    (
        "two tool calls",
        {},
        [ToolCallEvent(CALL_A), ToolCallEvent(CALL_B), Finished("stop", USAGE)],
        [
            ROLE,
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                        }
                    ]
                }
            ),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "time", "arguments": "{}"},
                        }
                    ]
                }
            ),
            chunk({}, "tool_calls"),
            "[DONE]",
        ],
    ),
    (
        "length",
        {},
        [TextDelta("cut"), Finished("length", USAGE)],
        [ROLE, chunk({"content": "cut"}), chunk({}, "length"), "[DONE]"],
    ),
    (
        "length wins over tool calls",
        {},
        [ToolCallEvent(CALL_A), Finished("length", USAGE)],
        [ROLE, chunk({"tool_calls": [{"index": 0, **CALL_A_WIRE}]}), chunk({}, "length"), "[DONE]"],
    ),
    (
        "include usage",
        {"include_usage": True},
        [TextDelta("Hi"), Finished("stop", USAGE)],
        [ROLE, chunk({"content": "Hi"}), chunk({}, "stop"), USAGE_CHUNK, "[DONE]"],
    ),
    (
        "logprobs",
        {"logprobs": True},
        [
            TextDelta("Hi"),
            LogprobsDelta((TokenLogprob("Hi", -0.5, (72, 105), (TokenLogprob("Hi", -0.5), TokenLogprob("Yo", -2.0))),)),
            Finished("stop", USAGE),
        ],
        [
            ROLE,
            chunk({"content": "Hi"}),
            chunk(
                {},
                logprobs={
                    "content": [
                        {
                            "token": "Hi",
                            "logprob": -0.5,
                            "bytes": [72, 105],
                            "top_logprobs": [
                                {"token": "Hi", "logprob": -0.5, "bytes": None},
                                {"token": "Yo", "logprob": -2.0, "bytes": None},
                            ],
                        }
                    ],
                    "refusal": None,
                },
            ),
            chunk({}, "stop"),
            "[DONE]",
        ],
    ),
    (
        "logprobs not asked",
        {},
        [TextDelta("Hi"), LogprobsDelta((TokenLogprob("Hi", -0.5),)), Finished("stop", USAGE)],
        [ROLE, chunk({"content": "Hi"}), chunk({}, "stop"), "[DONE]"],
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "events", "expected"), [t[1:] for t in TRANSCRIPTS], ids=[t[0] for t in TRANSCRIPTS]
)
def test_transcripts(kwargs: dict[str, Any], events: list[Event], expected: list[Any]) -> None:
    frames = parse_sse(run(encoder(**kwargs), events))
    assert frames == expected
    for frame in frames[:-1]:
        ChatCompletionChunk.model_validate(frame)


def test_tool_call_without_id_gets_a_stable_one() -> None:
    enc = encoder()
    enc.on_start()
    first = parse_sse(enc.on_event(ToolCallEvent(ToolCall(id="", name="f", arguments={}))))[0]
    assert first["choices"][0]["delta"]["tool_calls"][0]["id"] == f"call_{ID}_0"


def test_error_frame_and_no_done() -> None:
    enc = encoder()
    frames = enc.on_start() + enc.on_event(TextDelta("Hi")) + enc.on_error(UpstreamStreamError("model crashed"))
    frames += enc.on_end()
    assert parse_sse(frames)[-1] == {
        "error": {"message": "model crashed", "type": "api_error", "param": None, "code": "upstream_error"}
    }
    assert b"[DONE]" not in frames


def test_idle_is_an_sse_comment() -> None:
    assert encoder().on_idle() == b": ping\n\n"
    assert encoder().media_type == "text/event-stream"


def test_sdk_streams_text_reasoning_tools_and_usage() -> None:
    events: list[Event] = [
        ThinkingDelta("hmm"),
        TextDelta("Hel"),
        TextDelta("lo"),
        ToolCallEvent(CALL_A),
        ToolCallEvent(CALL_B),
        Finished("stop", USAGE),
    ]
    frames = run(encoder(include_usage=True), events)
    frames = frames.replace(b"\n\n", b"\n\n: ping\n\n", 2)  # keep-alives in between are skipped
    with sdk_client(sse_handler(frames)) as client:
        stream = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    assert {c.id for c in chunks} == {ID}
    assert {c.created for c in chunks} == {CREATED}
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks if c.choices)
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    assert (content, reasoning) == ("Hello", "hmm")
    assert [(tc.index, tc.id, tc.function and tc.function.name) for tc in calls] == [
        (0, "call_a", "weather"),
        (1, "call_b", "time"),
    ]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 17


def test_sdk_raises_on_the_error_frame() -> None:
    enc = encoder()
    frames = enc.on_start() + enc.on_event(TextDelta("Hi")) + enc.on_error(UpstreamStreamError("model crashed"))
    seen: list[str] = []
    with sdk_client(sse_handler(frames)) as client:
        stream = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True)
        with pytest.raises(openai.APIError) as info:
            for c in stream:
                seen.append(c.choices[0].delta.content or "")
    assert seen == ["", "Hi"]
    assert info.value.message == "model crashed"
    assert info.value.body == {"message": "model crashed", "type": "api_error", "param": None, "code": "upstream_error"}


# --- non-streaming ---------------------------------------------------------------------------------


def complete(events: Sequence[Event], **kwargs: Any) -> dict[str, Any]:
    return encode_chat_completion(fold(events), completion_id=ID, created=CREATED, model=MODEL, **kwargs)


def test_completion_text_and_reasoning() -> None:
    body = complete([ThinkingDelta("hmm"), TextDelta("Hel"), TextDelta("lo"), Finished("stop", USAGE)])
    assert body == {
        "id": ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello", "reasoning_content": "hmm"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }
    parsed = ChatCompletion.model_validate(body)
    assert parsed.choices[0].message.content == "Hello"


@pytest.mark.parametrize(
    ("events", "kwargs", "message", "finish"),
    [
        (
            [ThinkingDelta("hmm"), TextDelta("ok"), Finished("stop", USAGE)],
            {"exclude_reasoning": True},
            {"role": "assistant", "content": "ok"},
            "stop",
        ),
        ([Finished("stop", USAGE)], {}, {"role": "assistant", "content": ""}, "stop"),
        ([TextDelta("cut"), Finished("length", USAGE)], {}, {"role": "assistant", "content": "cut"}, "length"),
        (
            [ToolCallEvent(CALL_A), ToolCallEvent(CALL_B), Finished("stop", USAGE)],
            {},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                    },
                    {"id": "call_b", "type": "function", "function": {"name": "time", "arguments": "{}"}},
                ],
            },
            "tool_calls",
        ),
        (
            [TextDelta("Let me check."), ToolCallEvent(CALL_A), Finished("tool_calls", USAGE)],
            {},
            {
                "role": "assistant",
                "content": "Let me check.",
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            "tool_calls",
        ),
    ],
)
def test_completion_shapes(events: list[Event], kwargs: dict[str, Any], message: dict[str, Any], finish: str) -> None:
    body = complete(events, **kwargs)
    assert body["choices"][0]["message"] == message
    assert body["choices"][0]["finish_reason"] == finish
    ChatCompletion.model_validate(body)


def test_completion_logprobs() -> None:
    events: list[Event] = [
        TextDelta("Hi"),
        LogprobsDelta((TokenLogprob("Hi", -0.5, (72, 105), (TokenLogprob("Hi", -0.5),)),)),
        TextDelta("!"),
        LogprobsDelta((TokenLogprob("!", -0.1),)),
        Finished("stop", USAGE),
    ]
    body = complete(events, logprobs=True)
    parsed = ChatCompletion.model_validate(body)
    assert parsed.choices[0].logprobs is not None
    assert [(t.token, t.logprob) for t in parsed.choices[0].logprobs.content or ()] == [("Hi", -0.5), ("!", -0.1)]
    assert complete(events)["choices"][0]["logprobs"] is None
