"""/api/chat on the fake: streaming default, chunk shapes, aggregation, thinking, tools, logprobs, format."""

from __future__ import annotations

import json
from typing import Any

import httpx
import ollama
import pytest

from .replies import Reply, ToolCallSpec
from .server import FakeOllama
from .transcripts import CREATED_AT, ndjson

USER = [{"role": "user", "content": "hello big world"}]
METRICS = {
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
}


def chat(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/api/chat", json={"model": "llama3.2", "messages": USER, **body})


@pytest.mark.parametrize("stream", [None, True])
def test_streams_ndjson_unless_stream_is_false(http: httpx.Client, stream: bool | None) -> None:
    response = chat(http, **({} if stream is None else {"stream": stream}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["transfer-encoding"] == "chunked"
    chunks = ndjson(response.content)
    assert [c["message"]["content"] for c in chunks] == ["You", " said:", " hello", " big", " world", ""]
    assert all(c["done"] is False for c in chunks[:-1]) and chunks[-1]["done"] is True


def test_chunk_shape_and_metrics_only_on_final(http: httpx.Client) -> None:
    chunks = ndjson(chat(http).content)
    for chunk in chunks[:-1]:
        assert list(chunk) == ["model", "created_at", "message", "done"]
        assert chunk["message"]["role"] == "assistant"
        assert CREATED_AT.match(chunk["created_at"])
    final = chunks[-1]
    assert final["message"] == {"role": "assistant", "content": ""}
    assert final["done_reason"] == "stop"
    assert set(final) == {"model", "created_at", "message", "done", "done_reason"} | METRICS
    assert all(isinstance(final[key], int) and final[key] > 0 for key in METRICS)
    assert final["prompt_eval_count"] == 3 and final["eval_count"] == 5


def test_created_at_has_nanoseconds_trimmed(http: httpx.Client) -> None:
    stamps = [c["created_at"] for c in ndjson(chat(http).content)]
    assert all(CREATED_AT.match(s) for s in stamps)
    assert any(len(s.split(".")[1]) > 7 for s in stamps if "." in s)  # nanosecond precision, not micro


def test_zero_metrics_are_omitted(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=["x"], eval_count=0, metrics={"load_duration": 0}))
    final = ndjson(chat(http).content)[-1]
    assert "eval_count" not in final and "eval_duration" not in final and "load_duration" not in final
    assert final["prompt_eval_count"] == 3


def test_non_stream_is_one_json_object_with_full_text(http: httpx.Client) -> None:
    response = chat(http, stream=False)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["message"] == {"role": "assistant", "content": "You said: hello big world"}
    assert body["done"] is True and body["done_reason"] == "stop" and body["eval_count"] == 5
    assert not response.text.endswith("\n")


def test_thinking_defaults_on_for_thinking_models(http: httpx.Client) -> None:
    chunks = ndjson(http.post("/api/chat", json={"model": "qwen3", "messages": USER}).content)
    thinking = [c for c in chunks if "thinking" in c["message"]]
    assert thinking and chunks.index(thinking[-1]) < next(i for i, c in enumerate(chunks) if c["message"]["content"])
    assert all(c["message"]["content"] == "" for c in thinking)
    off = http.post("/api/chat", json={"model": "qwen3", "messages": USER, "think": False, "stream": False}).json()
    assert "thinking" not in off["message"]
    level = http.post("/api/chat", json={"model": "gpt-oss:20b", "messages": USER, "think": "max", "stream": False})
    assert level.json()["message"]["thinking"] == "The user said: hello big world. I will echo it."


def test_tool_calls_come_whole_in_one_chunk(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    calls = [ToolCallSpec("get_weather", {"city": "Paris", "unit": "c"}), ToolCallSpec("t", id="call_given1")]
    fake_ollama.script(Reply(content=["Let me check."], tool_calls=calls))
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    chunks = ndjson(chat(http, tools=tools).content)
    call_chunk = chunks[1]
    assert call_chunk["done"] is False and call_chunk["message"]["content"] == ""
    first, second = call_chunk["message"]["tool_calls"]
    assert first["id"].startswith("call_") and len(first["id"]) == 13 and first["id"][5:].isalnum()
    assert first["id"][5:] == first["id"][5:].lower()
    assert first["function"] == {"index": 0, "name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}
    assert list(first["function"]["arguments"]) == ["city", "unit"]
    assert second == {"id": "call_given1", "function": {"index": 1, "name": "t", "arguments": {}}}
    assert "tool_calls" not in chunks[-1]["message"] and chunks[-1]["done_reason"] == "stop"


def test_non_stream_collects_tool_calls_only_when_request_had_tools(
    http: httpx.Client, fake_ollama: FakeOllama
) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    fake_ollama.script(Reply(tool_calls=[ToolCallSpec("f", {"x": 1})]), Reply(tool_calls=[ToolCallSpec("f")]))
    with_tools = chat(http, tools=tools, stream=False).json()["message"]
    assert with_tools["content"] == "" and with_tools["tool_calls"][0]["function"]["arguments"] == {"x": 1}
    assert "tool_calls" not in chat(http, stream=False).json()["message"]


def test_mid_stream_error_line_keeps_status_200(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=["a", "b", "c"], error="boom", error_after=2))
    response = chat(http)
    assert response.status_code == 200
    assert ndjson(response.content) == [
        *[{"model": "llama3.2", "created_at": c["created_at"], "message": c["message"], "done": False}
          for c in ndjson(response.content)[:2]],
        {"error": "boom"},
    ]  # fmt: skip
    assert [c.get("message", {}).get("content") for c in ndjson(response.content)] == ["a", "b", None]


def test_error_before_output_is_a_status(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply.failing("server busy", status=503), Reply.failing("late", after=1))
    streamed = chat(http)
    assert (streamed.status_code, streamed.json()) == (503, {"error": "server busy"})
    assert streamed.headers["content-type"] == "application/json"
    single = chat(http, stream=False)  # non-streaming: any error, whenever it happens, is a status
    assert (single.status_code, single.json()) == (500, {"error": "late"})


def test_logprobs_per_chunk_and_concatenated(http: httpx.Client) -> None:
    chunks = ndjson(chat(http, logprobs=True, top_logprobs=2).content)
    first = chunks[0]["logprobs"]
    assert first[0]["token"] == "You" and first[0]["bytes"] == [89, 111, 117]
    assert len(first[0]["top_logprobs"]) == 2 and "logprobs" not in chunks[-1]
    single = chat(http, logprobs=True, stream=False).json()
    assert [lp["token"] for lp in single["logprobs"]] == ["You", " said:", " hello", " big", " world"]
    assert "top_logprobs" not in single["logprobs"][0]


@pytest.mark.parametrize(
    "fmt", ["json", {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"enum": ["a"]}}}]
)
def test_format_makes_default_content_valid_json(http: httpx.Client, fmt: Any) -> None:
    content = chat(http, format=fmt, stream=False).json()["message"]["content"]
    parsed = json.loads(content)
    assert parsed == ({"answer": "You said: hello big world"} if fmt == "json" else {"n": 5, "s": "a"})


def test_num_predict_truncates_with_length(http: httpx.Client) -> None:
    body = chat(http, options={"num_predict": 2}, stream=False).json()
    assert body["message"]["content"] == "You said:" and body["done_reason"] == "length" and body["eval_count"] == 2


@pytest.mark.parametrize(("keep_alive", "reason"), [(None, "load"), (0, "unload"), ("0s", "unload"), ("5m", "load")])
def test_empty_messages_load_or_unload(http: httpx.Client, keep_alive: Any, reason: str) -> None:
    body: dict[str, Any] = {"model": "llama3.2", "messages": []}
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    response = http.post("/api/chat", json=body)  # streaming requested, yet one JSON object
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "model": "llama3.2",
        "created_at": response.json()["created_at"],
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": reason,
    }


def test_sdk_chat_stream_and_single(sdk: ollama.Client, fake_ollama: FakeOllama) -> None:
    parts = list(sdk.chat(model="qwen3", messages=USER, stream=True))
    assert "".join(p.message.content or "" for p in parts) == "You said: hello big world"
    assert "".join(p.message.thinking or "" for p in parts).startswith("The user said")
    assert parts[-1].done and parts[-1].eval_count == len(parts) - 1
    fake_ollama.script(Reply(tool_calls=[ToolCallSpec("add", {"a": 1, "b": 2})]))
    tools = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]
    reply = sdk.chat(model="llama3.2", messages=USER, tools=tools, think=False)
    assert reply.message.tool_calls is not None
    assert reply.message.tool_calls[0].function.arguments == {"a": 1, "b": 2}
    assert fake_ollama.last("/api/chat").body["tools"][0]["function"]["name"] == "add"


async def test_async_sdk_chat(fake_ollama: FakeOllama) -> None:
    async with ollama.AsyncClient(host=fake_ollama.url) as client:
        stream = await client.chat(model="llama3.2", messages=USER, stream=True)
        contents = [part.message.content async for part in stream]
    assert "".join(contents) == "You said: hello big world"


def test_roles_are_case_insensitive_for_the_default_reply(http: httpx.Client) -> None:
    messages = [{"role": "SYSTEM", "content": "be brief"}, {"role": "User", "content": "ping"}]
    body = http.post("/api/chat", json={"model": "llama3.2", "messages": messages, "stream": False}).json()
    assert body["message"]["content"] == "You said: ping" and body["prompt_eval_count"] == 3
