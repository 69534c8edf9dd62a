"""/v1/messages through the official anthropic SDK: create, stream helper, thinking, tools, images, errors."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator

import anthropic
import httpx
import pytest

from tests.e2e.conftest import PNG
from tests.fake_ollama.replies import Reply, ToolCallSpec
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

USER = [{"role": "user", "content": "hello there"}]
TOOL = {
    "name": "get_weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture
def claude(gateway_server: GatewayServer, api_key: str) -> Iterator[anthropic.Anthropic]:
    """The official Anthropic SDK pointed at the gateway."""
    with anthropic.Anthropic(base_url=gateway_server.url, api_key=api_key, max_retries=0, timeout=20) as sdk:
        yield sdk


def test_create_and_stream_helper_agree(claude: anthropic.Anthropic, fake_ollama: FakeOllama) -> None:
    reply = Reply(thinking=["Let me ", "see"], content=["Hello", " world"], prompt_eval_count=9, eval_count=4)
    fake_ollama.script(
        reply, Reply(thinking=["Let me ", "see"], content=["Hello", " world"], prompt_eval_count=9, eval_count=4)
    )
    created = claude.messages.create(
        model="qwen3", max_tokens=100, messages=USER, thinking={"type": "enabled", "budget_tokens": 2048}
    )
    assert created.id.startswith("msg_")
    assert created.model == "qwen3"
    assert [b.type for b in created.content] == ["thinking", "text"]
    assert created.content[0].thinking == "Let me see"  # type: ignore[union-attr]
    assert created.content[0].signature  # type: ignore[union-attr]
    assert created.content[1].text == "Hello world"  # type: ignore[union-attr]
    assert created.stop_reason == "end_turn"
    assert (created.usage.input_tokens, created.usage.output_tokens) == (9, 4)
    assert fake_ollama.last("/api/chat").body["think"] == "low"

    with claude.messages.stream(
        model="qwen3", max_tokens=100, messages=USER, thinking={"type": "enabled", "budget_tokens": 2048}
    ) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert final.model_dump(exclude={"id"}) == created.model_dump(exclude={"id"})
    assert events[0] == "message_start" and events[-1] == "message_stop"


def test_stream_transcript_order(gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(
        Reply(thinking=["hm"], content=["Hi"], tool_calls=[ToolCallSpec("get_weather", {"city": "Paris"})])
    )
    body = {"model": "qwen3", "max_tokens": 50, "messages": USER, "tools": [TOOL], "stream": True}
    response = httpx.post(
        gateway_server.url + "/v1/messages",
        json=body,
        headers={"x-api-key": api_key, "anthropic-version": "2023-06-01"},
    )
    events = [line.removeprefix("event: ") for line in response.text.splitlines() if line.startswith("event: ")]
    assert events == [
        "message_start",
        "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",  # thinking, sig
        "content_block_start", "content_block_delta", "content_block_stop",  # text
        "content_block_start", "content_block_delta", "content_block_stop",  # tool_use + input_json_delta
        "message_delta",
        "message_stop",
    ]  # fmt: skip
    assert '"stop_reason":"tool_use"' in response.text


def test_tools_and_tool_result_round_trip(claude: anthropic.Anthropic, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=[], tool_calls=[ToolCallSpec("get_weather", {"city": "Paris"})]))
    first = claude.messages.create(model="llama3.2", max_tokens=50, messages=USER, tools=[TOOL])  # type: ignore[list-item]
    assert first.stop_reason == "tool_use"
    use = first.content[-1]
    assert use.type == "tool_use" and use.id.startswith("toolu_") and use.input == {"city": "Paris"}
    claude.messages.create(
        model="llama3.2",
        max_tokens=50,
        tools=[TOOL],  # type: ignore[list-item]
        messages=[
            *USER,
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},  # type: ignore[misc]
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": use.id, "content": "sunny"},
                    {"type": "text", "text": "and tomorrow?"},
                ],
            },
        ],
    )
    sent = fake_ollama.last("/api/chat").body["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}
    assert sent[2]["role"] == "tool" and sent[2]["tool_name"] == "get_weather" and sent[2]["content"] == "sunny"
    assert sent[3] == {"role": "user", "content": "and tomorrow?"}


def test_images_and_system(claude: anthropic.Anthropic, fake_ollama: FakeOllama) -> None:
    data = base64.b64encode(PNG).decode()
    claude.messages.create(
        model="llava",
        max_tokens=20,
        system="be brief",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}},
                    {"type": "text", "text": "what is it?"},
                ],
            }
        ],
    )
    sent = fake_ollama.last("/api/chat").body
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}
    assert sent["messages"][1]["images"] == [data]
    assert sent["options"]["num_predict"] == 20


def test_stop_reasons(claude: anthropic.Anthropic, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=["cut"], done_reason="length"))
    assert claude.messages.create(model="llama3.2", max_tokens=1, messages=USER).stop_reason == "max_tokens"
    release = threading.Event()  # the model would go on generating after the stop sequence
    fake_ollama.script(Reply(content=["one ", "two ", "STOP", " three"], hold=release, hold_after=3))
    try:
        stopped = claude.messages.create(model="llama3.2", max_tokens=50, messages=USER, stop_sequences=["STOP"])
        fake_ollama.wait_disconnect_sync(timeout=5)  # the gateway stopped reading upstream at the match
    finally:
        release.set()
    assert (stopped.stop_reason, stopped.stop_sequence) == ("stop_sequence", "STOP")
    assert stopped.content[0].text == "one two "  # type: ignore[union-attr]
    sent = fake_ollama.last("/api/chat").body
    assert sent["stream"] is True and "stop" not in sent.get("options", {})


def test_thinking_dropped_for_models_that_cannot_think(claude: anthropic.Anthropic, fake_ollama: FakeOllama) -> None:
    reply = claude.messages.create(
        model="llama3.2", max_tokens=10, messages=USER, thinking={"type": "enabled", "budget_tokens": 1024}
    )
    assert reply.content[0].type == "text"
    assert "think" not in fake_ollama.last("/api/chat").body


def test_count_tokens(claude: anthropic.Anthropic) -> None:
    counted = claude.messages.count_tokens(model="llama3.2", messages=USER)
    assert counted.input_tokens > 0
    longer = claude.messages.count_tokens(model="llama3.2", messages=[{"role": "user", "content": "word " * 400}])
    assert longer.input_tokens > counted.input_tokens


def test_error_types(gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama) -> None:
    clients: list[anthropic.Anthropic] = []

    def make(key: str) -> anthropic.Anthropic:
        clients.append(anthropic.Anthropic(base_url=gateway_server.url, api_key=key, max_retries=0))
        return clients[-1]

    try:
        _check_error_types(gateway_server, api_key, fake_ollama, make)
    finally:
        for sdk in clients:
            sdk.close()


def _check_error_types(
    gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama, make: Callable[[str], anthropic.Anthropic]
) -> None:
    ok = {"model": "llama3.2", "max_tokens": 10, "messages": USER}
    with pytest.raises(anthropic.BadRequestError) as bad:
        make(api_key).messages.create(model="llama3.2", messages=USER, max_tokens=0)
    assert bad.value.body["type"] == "error" and bad.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(anthropic.AuthenticationError):
        make("wrong").messages.create(**ok)  # type: ignore[arg-type]
    limited = gateway_server.create_key("limited", models=("qwen3",))
    with pytest.raises(anthropic.PermissionDeniedError):
        make(limited).messages.create(**ok)  # type: ignore[arg-type]
    with pytest.raises(anthropic.NotFoundError):
        make(api_key).messages.create(**{**ok, "model": "nope"})  # type: ignore[arg-type]
    fake_ollama.script(Reply.failing("model runner crashed", status=500))
    with pytest.raises(anthropic.InternalServerError) as upstream:
        make(api_key).messages.create(**ok)  # type: ignore[arg-type]
    assert upstream.value.status_code == 502 and "model runner crashed" in upstream.value.message
    fake_ollama.script(Reply.failing("server busy, please try again.  maximum pending requests exceeded", status=503))
    with pytest.raises(anthropic.APIStatusError) as busy:
        make(api_key).messages.create(**ok)  # type: ignore[arg-type]
    assert busy.value.status_code == 503 and busy.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_mid_stream_error_is_an_error_event(claude: anthropic.Anthropic, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply.failing("an error was encountered while running the model", after=2))
    with (
        pytest.raises(anthropic.APIStatusError, match="an error was encountered"),
        claude.messages.stream(model="llama3.2", max_tokens=50, messages=USER) as stream,
    ):
        for _ in stream:
            pass


def test_anthropic_prefix_and_bearer_auth(gateway_server: GatewayServer, api_key: str) -> None:
    response = httpx.post(
        gateway_server.url + "/anthropic/v1/messages",
        json={"model": "llama3.2", "max_tokens": 10, "messages": USER},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 200 and response.json()["type"] == "message"


def test_pings_while_the_model_is_silent(start_gateway: Callable[..., GatewayServer], fake_ollama: FakeOllama) -> None:
    server = start_gateway(ping_interval_sec=0.05)
    key = server.create_key()
    release = threading.Event()
    fake_ollama.script(Reply(content=["late"], hold=release))
    body = {"model": "llama3.2", "max_tokens": 10, "messages": USER, "stream": True}
    events: list[str] = []
    with (
        httpx.Client(timeout=10) as http,
        http.stream("POST", server.url + "/v1/messages", json=body, headers={"x-api-key": key}) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
                if events.count("ping") == 2:
                    release.set()  # two pings arrived before any content: now let the model speak
    assert events[0] == "message_start"
    assert events.index("ping") < events.index("content_block_start")
    assert events[-1] == "message_stop"


def test_timeout_is_a_timeout_error(gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama) -> None:
    gateway_server.call(lambda g: g.storage.models.set("llama3.2:latest", overrides={"request_timeout": 200}))
    gateway_server.call(lambda g: g.catalog.reload())
    release = threading.Event()
    fake_ollama.script(Reply(content=["late"], hold=release))
    try:
        response = httpx.post(
            gateway_server.url + "/v1/messages",
            json={"model": "llama3.2", "max_tokens": 10, "messages": USER},
            headers={"x-api-key": api_key},
        )
    finally:
        release.set()
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "timeout_error"
