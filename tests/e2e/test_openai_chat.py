"""/v1/chat/completions through the official openai SDK: content, streams, reasoning, tools, images, options."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import openai
import pytest

from tests.e2e.conftest import PNG
from tests.fake_ollama.replies import Reply, ToolCallSpec
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

USER = [{"role": "user", "content": "hello there"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_plain_chat_usage_and_upstream_body(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    reply = client.chat.completions.create(model="llama3.2", messages=USER, temperature=0.3, max_tokens=50)
    assert reply.object == "chat.completion"
    assert reply.model == "llama3.2"
    assert reply.choices[0].message.content == "You said: hello there"
    assert reply.choices[0].finish_reason == "stop"
    assert (
        reply.usage is not None
        and reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    )
    sent = fake_ollama.last("/api/chat").body
    assert sent["model"] == "llama3.2:latest"
    assert sent["stream"] is False
    assert sent["options"] == {"temperature": 0.3, "num_predict": 50}
    assert sent["messages"] == [{"role": "user", "content": "hello there"}]


def test_stream_shape(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=["Hel", "lo", " world"], prompt_eval_count=7, eval_count=3))
    chunks = list(
        client.chat.completions.create(
            model="llama3.2", messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello world"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (
        7,
        3,
    )
    assert fake_ollama.last("/api/chat").body["stream"] is True


def test_stream_without_include_usage_has_no_usage_chunk(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    chunks = list(client.chat.completions.create(model="llama3.2", messages=USER, stream=True))
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


@pytest.mark.parametrize(
    ("extra", "think"),
    [
        ({"reasoning_effort": "high"}, "high"),
        ({"reasoning_effort": "none"}, False),
        ({"reasoning_effort": "minimal"}, "low"),
        ({"extra_body": {"think": True}}, True),
        ({"extra_body": {"reasoning": {"effort": "low"}}}, "low"),
    ],
)
def test_reasoning_controls_map_to_think(
    client: openai.OpenAI, fake_ollama: FakeOllama, extra: dict[str, object], think: object
) -> None:
    client.chat.completions.create(model="qwen3", messages=USER, **extra)  # type: ignore[call-overload]
    assert fake_ollama.last("/api/chat").body["think"] == think


def test_reasoning_content_in_body_and_stream(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(
        Reply(thinking=["Let me ", "think"], content=["42"]), Reply(thinking=["Let me ", "think"], content=["42"])
    )
    reply = client.chat.completions.create(model="qwen3", messages=USER, extra_body={"think": True})
    message = reply.choices[0].message
    assert message.content == "42"
    assert message.model_extra is not None and message.model_extra["reasoning_content"] == "Let me think"
    chunks = list(client.chat.completions.create(model="qwen3", messages=USER, stream=True, extra_body={"think": True}))
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices
    )
    assert reasoning == "Let me think"


def test_exclude_reasoning_hides_it(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(thinking=["secret"], content=["answer"]))
    reply = client.chat.completions.create(model="qwen3", messages=USER, extra_body={"exclude_reasoning": True})
    assert reply.choices[0].message.content == "answer"
    assert "reasoning_content" not in (reply.choices[0].message.model_extra or {})


def test_tool_calls_non_stream_and_stream(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    calls = [ToolCallSpec("get_weather", {"city": "Paris"}), ToolCallSpec("get_weather", {"city": "Rome"})]
    fake_ollama.script(Reply(content=[], tool_calls=calls), Reply(content=[], tool_calls=calls))
    reply = client.chat.completions.create(model="llama3.2", messages=USER, tools=[WEATHER_TOOL])  # type: ignore[list-item]
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert [(c.type, c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls] == [
        ("function", "get_weather", {"city": "Paris"}),
        ("function", "get_weather", {"city": "Rome"}),
    ]
    assert all(c.id for c in choice.message.tool_calls)
    sent_tools = fake_ollama.last("/api/chat").body["tools"]
    assert sent_tools[0]["function"]["name"] == "get_weather"

    chunks = list(client.chat.completions.create(model="llama3.2", messages=USER, tools=[WEATHER_TOOL], stream=True))  # type: ignore[list-item]
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert [d.index for d in deltas] == [0, 1]
    assert [json.loads(d.function.arguments or "") for d in deltas if d.function] == [
        {"city": "Paris"},
        {"city": "Rome"},
    ]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


def test_tool_history_goes_upstream_as_objects(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    client.chat.completions.create(
        model="llama3.2",
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
    )
    sent = fake_ollama.last("/api/chat").body["messages"]
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == {"city": "Paris"}
    assert sent[2] == {"role": "tool", "content": "sunny", "tool_name": "get_weather", "tool_call_id": "call_1"}


def test_tool_choice_none_sends_no_tools(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    client.chat.completions.create(model="llama3.2", messages=USER, tools=[WEATHER_TOOL], tool_choice="none")  # type: ignore[list-item]
    assert "tools" not in fake_ollama.last("/api/chat").body


def test_images_base64_and_several(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    data = base64.b64encode(PNG).decode()
    client.chat.completions.create(
        model="llava",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "compare"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
                    {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{data}"}},
                ],
            }
        ],
    )
    assert fake_ollama.last("/api/chat").body["messages"][0]["images"] == [data, data]


def test_image_url_on_loopback_is_refused_by_default(client: openai.OpenAI, image_server: str) -> None:
    with pytest.raises(openai.BadRequestError, match="refused"):
        client.chat.completions.create(
            model="llava",
            messages=[
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": image_server + "/pixel.png"}}]}
            ],
        )


def test_image_url_fetched_when_private_allowed(
    start_gateway: Callable[..., GatewayServer], fake_ollama: FakeOllama, image_server: str
) -> None:
    server = start_gateway(image_fetch_allow_private=True, image_max_bytes=10_000)
    with openai.OpenAI(base_url=server.url + "/v1", api_key=server.create_key(), max_retries=0) as sdk:
        sdk.chat.completions.create(
            model="llava",
            messages=[
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": image_server + "/pixel.png"}}]}
            ],
        )
        assert fake_ollama.last("/api/chat").body["messages"][0]["images"] == [base64.b64encode(PNG).decode()]
        for path, error in (("/page.html", openai.BadRequestError), ("/missing.png", openai.BadRequestError)):
            with pytest.raises(error):
                sdk.chat.completions.create(
                    model="llava",
                    messages=[
                        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": image_server + path}}]}
                    ],
                )
        with pytest.raises(openai.APIStatusError) as too_big:
            sdk.chat.completions.create(
                model="llava",
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": image_server + "/big.png"}}],
                    }
                ],
            )
        assert too_big.value.status_code == 413
    with openai.OpenAI(base_url=server.url + "/v1", api_key=server.create_key(), max_retries=0) as sdk:
        sdk.chat.completions.create(
            model="llava",
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": image_server + "/redirect?to=/pixel.png"}}],
                }
            ],
        )


def test_every_ollama_option_and_format(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    client.chat.completions.create(
        model="llama3.2",
        messages=USER,
        seed=7,
        stop=["END"],
        presence_penalty=0.5,
        frequency_penalty=0.25,
        top_p=0.9,
        max_completion_tokens=64,
        response_format={"type": "json_object"},
        extra_body={
            "num_ctx": 8192,
            "top_k": 20,
            "options": {"min_p": 0.05, "repeat_penalty": 1.1},
            "keep_alive": "10m",
        },
    )
    body = fake_ollama.last("/api/chat").body
    assert (
        body["options"]
        == {
            "min_p": 0.05,
            "repeat_penalty": 1.1,
            "num_ctx": 8192,
            "top_k": 20,
            "seed": 7,
            "stop": ["END"],
            "presence_penalty": 0.5,
            "frequency_penalty": 0.25,
            "top_p": 0.9,
            "num_predict": 64,
        }
        or body["options"]
    )
    assert body["options"]["frequency_penalty"] == 0.25 and "repeat_penalty" in body["options"]
    assert body["format"] == "json"
    assert body["keep_alive"] == "10m"


def test_length_finish_reason(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=["cut"], done_reason="length"))
    reply = client.chat.completions.create(model="llama3.2", messages=USER, max_tokens=1)
    assert reply.choices[0].finish_reason == "length"


def test_json_schema_response_format(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    reply = client.chat.completions.create(
        model="llama3.2",
        messages=USER,
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    assert fake_ollama.last("/api/chat").body["format"] == schema
    assert "answer" in json.loads(reply.choices[0].message.content or "")
