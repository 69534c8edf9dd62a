"""Ollama native chunks → core events."""

from __future__ import annotations

import pytest

from ollama_gateway.core.events import Finished, LogprobsDelta, TextDelta, ThinkingDelta, ToolCallEvent
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import UpstreamStreamError
from ollama_gateway.protocols.ollama.decode import ChunkDecoder, parse_embed_response


def _decoder(generate: bool = False) -> ChunkDecoder:
    ids = iter(f"call_gen{i}" for i in range(10))
    return ChunkDecoder(lambda: next(ids), generate=generate)


def test_stream_with_thinking_text_and_metrics() -> None:
    decoder = _decoder()
    chunks = [
        {"model": "q", "message": {"role": "assistant", "content": "", "thinking": "Let"}, "done": False},
        {"model": "q", "message": {"role": "assistant", "content": "Hi", "thinking": " me"}, "done": False},
        {
            "model": "q",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 26,
            "eval_count": 3,
            "total_duration": 5,
        },
    ]
    events = [e for c in chunks for e in decoder.decode(c)]
    assert events == [ThinkingDelta("Let"), ThinkingDelta(" me"), TextDelta("Hi"), Finished("stop", Usage(26, 3))]


def test_tool_calls_get_stable_indices_and_finish_reason() -> None:
    decoder = _decoder()
    first = {
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "call_aaaaaaaa", "function": {"index": 0, "name": "f", "arguments": {"a": 1}}},
                {"function": {"index": 1, "name": "g", "arguments": {}}},
            ],
        },
        "done": False,
    }
    second = {
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "call_cccccccc", "function": {"index": 0, "name": "h", "arguments": {"z": [1]}}},
            ],
        },
        "done": False,
    }
    final = {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
    events = decoder.decode(first) + decoder.decode(second) + decoder.decode(final)
    assert events == [
        ToolCallEvent(ToolCall("call_aaaaaaaa", "f", {"a": 1}, 0)),
        ToolCallEvent(ToolCall("call_gen0", "g", {}, 1)),
        ToolCallEvent(ToolCall("call_cccccccc", "h", {"z": [1]}, 2)),
        Finished("tool_calls", Usage(0, 0)),
    ]


@pytest.mark.parametrize(
    ("reason", "expected"), [("length", "length"), ("load", "stop"), ("", "stop"), ("weird", "stop")]
)
def test_done_reasons(reason: str, expected: str) -> None:
    events = _decoder().decode({"message": {"content": ""}, "done": True, "done_reason": reason})
    assert events == [Finished(expected, Usage())]  # type: ignore[arg-type]


def test_error_line_mid_stream_raises_with_ollama_text() -> None:
    decoder = _decoder()
    decoder.decode({"message": {"content": "partial"}, "done": False})
    with pytest.raises(UpstreamStreamError, match="an error was encountered while running the model"):
        decoder.decode({"error": "an error was encountered while running the model"})


def test_generate_chunks_and_logprobs() -> None:
    decoder = _decoder(generate=True)
    events = decoder.decode(
        {
            "response": "tok",
            "thinking": "t",
            "done": False,
            "logprobs": [
                {"token": "tok", "logprob": -0.1, "bytes": [116], "top_logprobs": [{"token": "tok", "logprob": -0.1}]}
            ],
        }
    )
    assert events[:2] == [ThinkingDelta("t"), TextDelta("tok")]
    assert isinstance(events[2], LogprobsDelta)
    assert events[2].entries[0].bytes == (116,)
    assert events[2].entries[0].top[0].token == "tok"


@pytest.mark.parametrize(
    "bad",
    [
        [1],
        {"message": {"tool_calls": [{"function": {"arguments": {}}}]}},
        {"message": {"tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}},
    ],
)
def test_malformed_upstream_objects(bad: object) -> None:
    with pytest.raises(UpstreamStreamError):
        _decoder().decode(bad)


def test_embed_response() -> None:
    result = parse_embed_response({"model": "e", "embeddings": [[0.6, 0.8]], "prompt_eval_count": 4})
    assert result.vectors == ((0.6, 0.8),)
    assert result.usage == Usage(4, 0)
    with pytest.raises(UpstreamStreamError):
        parse_embed_response({"embedding": []})
