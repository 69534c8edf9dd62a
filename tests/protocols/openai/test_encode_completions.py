"""CompletionStreamEncoder transcripts and encode_completion, checked against the openai SDK."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import openai
import pytest
from openai.types import Completion

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
from ollama_gateway.errors import UpstreamTimeoutError
from ollama_gateway.protocols.openai.encode import CompletionStreamEncoder, encode_completion
from tests.protocols.openai.sdk import parse_sse, sdk_client, sse_handler

ID = "cmpl-1"
CREATED = 1_700_000_001
MODEL = "llama3.2"
USAGE = Usage(prompt_tokens=3, completion_tokens=2)


def encoder(**kwargs: Any) -> CompletionStreamEncoder:
    return CompletionStreamEncoder(ID, CREATED, MODEL, **kwargs)


def run(enc: CompletionStreamEncoder, events: Sequence[Event]) -> bytes:
    return enc.on_start() + b"".join(enc.on_event(event) for event in events) + enc.on_end()


def chunk(text: str, finish: str | None = None, **fields: Any) -> dict[str, Any]:
    choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish, **fields}
    return {"id": ID, "object": "text_completion", "created": CREATED, "model": MODEL, "choices": [choice]}


USAGE_CHUNK = {
    "id": ID,
    "object": "text_completion",
    "created": CREATED,
    "model": MODEL,
    "choices": [],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}

TRANSCRIPTS: list[tuple[str, dict[str, Any], list[Event], list[Any]]] = [
    (
        "text",
        {},
        [TextDelta("a"), TextDelta("b"), Finished("stop", USAGE)],
        [chunk("a"), chunk("b"), chunk("", "stop"), "[DONE]"],
    ),
    (
        "usage and length",
        {"include_usage": True},
        [TextDelta("a"), Finished("length", USAGE)],
        [chunk("a"), chunk("", "length"), USAGE_CHUNK, "[DONE]"],
    ),
    (
        "echo",
        {"echo": "Once upon"},
        [TextDelta(" a time"), Finished("stop", USAGE)],
        [chunk("Once upon"), chunk(" a time"), chunk("", "stop"), "[DONE]"],
    ),
    (
        "reasoning extension",
        {},
        [ThinkingDelta("hmm"), TextDelta("x"), Finished("stop", USAGE)],
        [chunk("", reasoning_content="hmm"), chunk("x"), chunk("", "stop"), "[DONE]"],
    ),
    (
        "reasoning excluded",
        {"exclude_reasoning": True},
        [ThinkingDelta("hmm"), TextDelta("x"), Finished("stop", USAGE)],
        [chunk("x"), chunk("", "stop"), "[DONE]"],
    ),
    (
        "tool call extension",
        {},
        [ToolCallEvent(ToolCall(id="c", name="f", arguments={"a": 1})), Finished("tool_calls", USAGE)],
        [
            chunk(
                "",
                tool_calls=[
                    {"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
                ],
            ),
            chunk("", "stop"),
            "[DONE]",
        ],
    ),
    (
        "logprobs with offsets",
        {"logprobs": True, "echo": "ab"},
        [
            TextDelta("Hi"),
            LogprobsDelta((TokenLogprob("H", -0.1, top=(TokenLogprob("H", -0.1), TokenLogprob("J", -3.0))),)),
            LogprobsDelta((TokenLogprob("i", -0.2),)),
            Finished("stop", USAGE),
        ],
        [
            chunk("ab"),
            chunk("Hi"),
            chunk(
                "",
                logprobs={
                    "tokens": ["H"],
                    "token_logprobs": [-0.1],
                    "top_logprobs": [{"H": -0.1, "J": -3.0}],
                    "text_offset": [2],
                },
            ),
            chunk("", logprobs={"tokens": ["i"], "token_logprobs": [-0.2], "top_logprobs": [{}], "text_offset": [3]}),
            chunk("", "stop"),
            "[DONE]",
        ],
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "events", "expected"), [t[1:] for t in TRANSCRIPTS], ids=[t[0] for t in TRANSCRIPTS]
)
def test_transcripts(kwargs: dict[str, Any], events: list[Event], expected: list[Any]) -> None:
    frames = parse_sse(run(encoder(**kwargs), events))
    assert frames == expected
    for frame in frames[:-1]:
        # The SDK's Completion type requires finish_reason, though OpenAI streams null until the end (the SDK
        # builds stream chunks without validation); check everything else.
        if frame["choices"] and frame["choices"][0]["finish_reason"] is None:
            frame = {**frame, "choices": [{**frame["choices"][0], "finish_reason": "stop"}]}
        Completion.model_validate(frame)


def test_sdk_stream_and_error() -> None:
    frames = run(encoder(include_usage=True), [TextDelta("a"), TextDelta("b"), Finished("stop", USAGE)])
    with sdk_client(sse_handler(frames)) as client:
        parts = list(client.completions.create(model=MODEL, prompt="x", stream=True))
    assert "".join(p.choices[0].text for p in parts if p.choices) == "ab"
    assert parts[-1].usage is not None and parts[-1].usage.total_tokens == 5

    enc = encoder()
    failing = enc.on_start() + enc.on_event(TextDelta("a")) + enc.on_error(UpstreamTimeoutError("too slow"))
    assert enc.on_end() == b""
    with sdk_client(sse_handler(failing)) as client, pytest.raises(openai.APIError, match="too slow"):
        list(client.completions.create(model=MODEL, prompt="x", stream=True))


def test_encode_completion() -> None:
    result = fold([TextDelta(" a time"), Finished("length", USAGE)])
    body = encode_completion(result, completion_id=ID, created=CREATED, model=MODEL, echo="Once upon")
    assert body == {
        "id": ID,
        "object": "text_completion",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "text": "Once upon a time", "logprobs": None, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    Completion.model_validate(body)


def test_encode_completion_extensions_and_logprobs() -> None:
    events: list[Event] = [
        ThinkingDelta("hmm"),
        TextDelta("ok"),
        LogprobsDelta((TokenLogprob("ok", -0.3),)),
        ToolCallEvent(ToolCall(id="", name="f", arguments={})),
        Finished("stop", USAGE),
    ]
    body = encode_completion(fold(events), completion_id=ID, created=CREATED, model=MODEL, logprobs=True)
    choice = body["choices"][0]
    assert choice["reasoning_content"] == "hmm"
    assert choice["tool_calls"] == [
        {"id": f"call_{ID}_0", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ]
    assert choice["logprobs"] == {"tokens": ["ok"], "token_logprobs": [-0.3], "top_logprobs": [{}], "text_offset": [0]}
    hidden = encode_completion(fold(events), completion_id=ID, created=CREATED, model=MODEL, exclude_reasoning=True)
    assert "reasoning_content" not in hidden["choices"][0]
    Completion.model_validate(body)
