"""/api/generate on the fake: response chunks, top-level thinking, context, raw, load/unload."""

from __future__ import annotations

from typing import Any

import httpx
import ollama
import pytest

from .replies import Reply, ToolCallSpec
from .server import FakeOllama
from .transcripts import ndjson


def generate(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/api/generate", json={"model": "llama3.2", "prompt": "why is the sky blue", **body})


def test_streams_response_chunks_then_final_with_context(http: httpx.Client) -> None:
    response = generate(http)
    assert response.headers["content-type"] == "application/x-ndjson"
    chunks = ndjson(response.content)
    assert "".join(c["response"] for c in chunks) == "You said: why is the sky blue"
    assert list(chunks[0]) == ["model", "created_at", "response", "done"]
    final = chunks[-1]
    assert final["response"] == "" and final["done"] is True and final["done_reason"] == "stop"
    assert isinstance(final["context"], list) and all(isinstance(t, int) for t in final["context"])
    assert final["prompt_eval_count"] == 5 and final["eval_count"] == len(chunks) - 1
    assert all("context" not in c and "eval_count" not in c for c in chunks[:-1])


def test_raw_leaves_out_context(http: httpx.Client) -> None:
    final = generate(http, raw=True, stream=False).json()
    assert "context" not in final and final["response"] == "You said: why is the sky blue"


def test_thinking_is_top_level(http: httpx.Client) -> None:
    chunks = ndjson(generate(http, model="qwen3").content)
    assert chunks[0]["thinking"].strip() and chunks[0]["response"] == ""
    single = generate(http, model="qwen3", think="high", stream=False).json()
    assert single["thinking"] == "The user said: why is the sky blue. I will echo it."
    assert "thinking" not in generate(http, model="qwen3", think=False, stream=False).json()


def test_scripted_reply_and_tool_calls_on_final(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=["Hi", "!"], tool_calls=[ToolCallSpec("f", {"a": 1})], context=[1, 2]))
    chunks = ndjson(generate(http).content)
    assert [c["response"] for c in chunks] == ["Hi", "!", ""]
    assert chunks[-1]["context"] == [1, 2]
    assert chunks[-1]["tool_calls"][0]["function"] == {"index": 0, "name": "f", "arguments": {"a": 1}}


def test_scripts_can_target_a_path_and_model(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=["for qwen"]), model="qwen3:latest")
    fake_ollama.script(Reply(content=["for chat"]), path="/api/chat")
    assert generate(http, stream=False).json()["response"].startswith("You said")
    assert generate(http, model="Qwen3", stream=False, think=False).json()["response"] == "for qwen"
    chat = http.post("/api/chat", json={"model": "llama3.2", "messages": [{"role": "user", "content": "x"}]})
    assert ndjson(chat.content)[0]["message"]["content"] == "for chat"
    assert fake_ollama.pending_scripts == 0


@pytest.mark.parametrize(("keep_alive", "reason"), [(None, "load"), (0, "unload")])
def test_empty_prompt_loads_or_unloads(http: httpx.Client, keep_alive: Any, reason: str) -> None:
    body: dict[str, Any] = {"model": "llama3.2"}
    if keep_alive is not None:
        body["keep_alive"] = keep_alive
    response = http.post("/api/generate", json=body)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    obj = response.json()
    assert obj == {"model": "llama3.2", "created_at": obj["created_at"], "response": "", "done": True,
                   "done_reason": reason}  # fmt: skip


def test_mid_stream_error(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply.failing(after=1))
    response = generate(http)
    assert response.status_code == 200
    assert ndjson(response.content)[-1] == {"error": "an error was encountered while running the model"}


def test_sdk_generate(sdk: ollama.Client) -> None:
    reply = sdk.generate(model="llama3.2", prompt="hello", options={"temperature": 0.2}, keep_alive="1m")
    assert reply.response == "You said: hello" and reply.done_reason == "stop" and reply.context
    parts = list(sdk.generate(model="gpt-oss:20b", prompt="hello", stream=True, think="low"))
    assert parts[0].thinking and parts[-1].done
