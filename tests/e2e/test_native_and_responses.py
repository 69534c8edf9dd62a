"""Ollama's native API through the gateway with the `ollama` SDK, and /v1/responses with the openai SDK."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import ollama
import openai
import pytest

from tests.fake_ollama.replies import Reply, ToolCallSpec
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

USER = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def native(gateway_server: GatewayServer, api_key: str) -> Iterator[ollama.Client]:
    """The official ollama SDK pointed at the gateway, with a key."""
    client = ollama.Client(host=gateway_server.url, headers={"Authorization": f"Bearer {api_key}"})
    yield client
    client._client.close()


def test_native_chat_stream_and_not(native: ollama.Client, fake_ollama: FakeOllama) -> None:
    whole = native.chat(model="llama3.2", messages=USER)
    assert whole.message.content == "You said: hello there"
    parts = list(native.chat(model="llama3.2", messages=USER, stream=True))
    assert "".join(p.message.content or "" for p in parts) == "You said: hello there"
    assert parts[-1].done and parts[-1].eval_count
    assert fake_ollama.last("/api/chat").body["model"] == "llama3.2:latest"


def test_native_generate_embed_tags_show_ps_version(native: ollama.Client, fake_ollama: FakeOllama) -> None:
    assert native.generate(model="llama3.2", prompt="hi").response
    assert len(native.embed(model="all-minilm", input=["a", "b"]).embeddings) == 2
    assert native.embeddings(model="all-minilm", prompt="a").embedding
    names = {m.model for m in native.list().models}
    assert "llama3.2:latest" in names and "all-minilm:latest" in names
    assert "completion" in (native.show("llama3.2").capabilities or [])
    assert isinstance(native.ps().models, list)
    assert native._client.get("/api/version").json()["version"]


def test_native_permissions_and_errors(gateway_server: GatewayServer, fake_ollama: FakeOllama) -> None:
    limited = gateway_server.create_key("limited", models=("qwen3",))
    client = ollama.Client(host=gateway_server.url, headers={"Authorization": f"Bearer {limited}"})
    try:
        assert {m.model for m in client.list().models} == {"qwen3:latest"}
        with pytest.raises(ollama.ResponseError) as denied:
            client.chat(model="llama3.2", messages=USER)
        assert denied.value.status_code == 403
        fake_ollama.script(Reply.failing("an error was encountered while running the model", after=1))
        with pytest.raises(ollama.ResponseError, match="an error was encountered"):
            list(client.chat(model="qwen3", messages=USER, stream=True, think=False))
    finally:
        client._client.close()
    anonymous = httpx.post(gateway_server.url + "/api/chat", json={"model": "llama3.2", "messages": USER})
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"error"}


def test_native_overrides_and_display_names(
    gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama
) -> None:
    gateway_server.call(
        lambda g: g.storage.models.set("llama3.2:latest", display_name="house-model", overrides={"num_ctx": 4096})
    )
    gateway_server.call(lambda g: g.catalog.reload())
    client = ollama.Client(host=gateway_server.url, headers={"Authorization": f"Bearer {api_key}"})
    try:
        client.chat(model="house-model", messages=USER, options={"temperature": 0.1})
        sent = fake_ollama.last("/api/chat").body
        assert sent["model"] == "llama3.2:latest"
        assert sent["options"] == {"num_ctx": 4096, "temperature": 0.1}
        assert "house-model" in {m.model for m in client.list().models}
    finally:
        client._client.close()


def test_native_stream_disconnect_cancels_upstream(
    gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama
) -> None:
    release = threading.Event()
    fake_ollama.script(Reply(content=["a ", "b "], hold=release, hold_after=1))
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "POST",
            gateway_server.url + "/api/chat",
            json={"model": "llama3.2", "messages": USER},
            headers={"Authorization": f"Bearer {api_key}", "X-Task-Id": "native-dc"},
        ) as response,
    ):
        assert json.loads(next(response.iter_lines()))["message"]["content"] == "a "
    try:
        fake_ollama.wait_disconnect_sync(timeout=5)
    finally:
        release.set()


def test_responses_create_and_stream(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(thinking=["mull"], content=["Hi", " there"]), Reply(content=["Hi", " there"]))
    created = client.responses.create(model="qwen3", input="hello", reasoning={"effort": "low"})
    assert created.output_text == "Hi there"
    assert created.status == "completed" and created.usage is not None
    assert fake_ollama.last("/api/chat").body["think"] == "low"
    with client.responses.stream(model="llama3.2", input=[{"role": "user", "content": "hello"}]) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "Hi there"


def test_responses_tools_and_refusals(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=[], tool_calls=[ToolCallSpec("lookup", {"q": "x"})]))
    tool = {
        "type": "function",
        "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    }
    created = client.responses.create(model="llama3.2", input="find x", tools=[tool])  # type: ignore[list-item]
    calls = [item for item in created.output if item.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("lookup", {"q": "x"})]
    with pytest.raises(openai.BadRequestError, match="previous_response_id"):
        client.responses.create(model="llama3.2", input="again", previous_response_id="resp_123")


def test_responses_custom_tool_round_trip(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    patch = "*** Begin Patch\n*** End Patch"
    fake_ollama.script(Reply(content=[], tool_calls=[ToolCallSpec("apply_patch", {"input": patch})]), Reply())
    tool = {"type": "custom", "name": "apply_patch", "description": "Edit files with a patch."}
    created = client.responses.create(model="llama3.2", input="fix it", tools=[tool])  # type: ignore[list-item]
    (call,) = [item for item in created.output if item.type == "custom_tool_call"]
    assert (call.name, call.input) == ("apply_patch", patch)
    sent = fake_ollama.last("/api/chat").body["tools"][0]["function"]
    assert sent["name"] == "apply_patch" and sent["parameters"]["required"] == ["input"]
    history = [
        {"role": "user", "content": "fix it"},
        {"type": "custom_tool_call", "call_id": call.call_id, "name": call.name, "input": call.input},
        {"type": "custom_tool_call_output", "call_id": call.call_id, "output": "Done!"},
    ]
    answer = client.responses.create(model="llama3.2", input=history, tools=[tool])  # type: ignore[arg-type, list-item]
    assert answer.status == "completed"
    messages = fake_ollama.last("/api/chat").body["messages"]
    function = messages[-2]["tool_calls"][0]["function"]
    assert (function["name"], function["arguments"]) == ("apply_patch", {"input": patch})
    result = messages[-1]
    assert (result["role"], result["content"], result["tool_name"]) == ("tool", "Done!", "apply_patch")


def test_relayed_responses_carry_one_date_and_one_server_header(gateway_server: GatewayServer, api_key: str) -> None:
    response = httpx.post(
        gateway_server.url + "/api/chat",
        json={"model": "llama3.2", "messages": USER, "stream": False},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 200
    names = [name.lower() for name, _ in response.headers.raw]
    assert names.count(b"date") <= 1 and names.count(b"server") <= 1
    assert response.headers["x-task-id"]
