"""Agent-client fields through a running gateway and the official SDKs: context editing, dropped hosted tools
and fields (response headers, one log line per client and name), HOSTED_TOOLS / UNSUPPORTED_FIELDS."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

pytestmark = pytest.mark.e2e

THINKING_HISTORY: list[Any] = [
    {"role": "user", "content": "q1"},
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "old reasoning " * 20, "signature": "s"},
            {"type": "text", "text": "a1"},
        ],
    },
    {"role": "user", "content": "q2"},
]
CLEAR_ALL_THINKING = {"edits": [{"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns", "value": 0}}]}
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}


def _claude(server: GatewayServer, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0, timeout=20)


def _openai(server: GatewayServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=20)


def test_context_editing_reported_in_body_and_stream(gateway_server: GatewayServer, fake_ollama: FakeOllama) -> None:
    key = gateway_server.create_key("edits")
    with _claude(gateway_server, key) as sdk:
        message = sdk.beta.messages.create(
            model="qwen3", max_tokens=50, messages=THINKING_HISTORY, context_management=CLEAR_ALL_THINKING
        )
        sent = fake_ollama.last("/api/chat").body
        assert all("thinking" not in m for m in sent["messages"])  # cleared before translation
        assert message.context_management is not None
        (applied,) = message.context_management.applied_edits
        assert applied.type == "clear_thinking_20251015"
        assert applied.cleared_thinking_turns == 1  # type: ignore[union-attr]
        assert applied.cleared_input_tokens > 0
        with sdk.beta.messages.stream(
            model="qwen3", max_tokens=50, messages=THINKING_HISTORY, context_management=CLEAR_ALL_THINKING
        ) as stream:
            final = stream.get_final_message()
        assert final.context_management is not None
        assert final.context_management.applied_edits[0].type == "clear_thinking_20251015"
        # Without context_management the response carries none.
        plain = sdk.beta.messages.create(model="qwen3", max_tokens=50, messages=THINKING_HISTORY)
        assert plain.context_management is None


def test_dropped_server_tool_is_named_in_a_header_and_logged_once(
    gateway_server: GatewayServer, fake_ollama: FakeOllama, caplog: pytest.LogCaptureFixture
) -> None:
    key = gateway_server.create_key("drop")
    tool = {"name": "Read", "input_schema": {"type": "object", "properties": {}}}
    caplog.set_level(logging.WARNING, logger="ollama_gateway.web.dropped")
    with _claude(gateway_server, key) as sdk:
        for _ in range(2):
            raw = sdk.messages.with_raw_response.create(
                model="qwen3", max_tokens=20, messages=[{"role": "user", "content": "hi"}], tools=[WEB_SEARCH, tool]
            )
            assert raw.headers["x-gateway-dropped-tools"] == "web_search"
            assert raw.parse().content
    assert [t["function"]["name"] for t in fake_ollama.last("/api/chat").body["tools"]] == ["Read"]
    lines = [r.getMessage() for r in caplog.records if "web_search" in r.getMessage()]
    assert len(lines) == 1, lines
    assert key not in lines[0]  # the key's id names the client, never its secret


def test_codex_web_search_dropped_on_responses(gateway_server: GatewayServer, fake_ollama: FakeOllama) -> None:
    key = gateway_server.create_key("codex")
    with _openai(gateway_server, key) as sdk:
        raw = sdk.responses.with_raw_response.create(
            model="llama3.2",
            input="hi",
            tools=[{"type": "web_search"}],
            extra_body={"client_metadata": {"session_id": "s"}},
        )
    assert raw.headers["x-gateway-dropped-tools"] == "web_search"
    assert raw.parse().output_text == "You said: hi"
    assert "tools" not in fake_ollama.last("/api/chat").body


def test_hosted_tools_refuse(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(hosted_tools="refuse")
    key = server.create_key("strict")
    with _openai(server, key) as sdk, pytest.raises(openai.BadRequestError) as info:
        sdk.responses.create(model="llama3.2", input="hi", tools=[{"type": "web_search"}])
    assert info.value.body["param"] == "tools[0].type"  # type: ignore[index]
    with _claude(server, key) as claude, pytest.raises(anthropic.BadRequestError, match="web_search_20250305"):
        claude.messages.create(
            model="qwen3", max_tokens=5, messages=[{"role": "user", "content": "hi"}], tools=[WEB_SEARCH]
        )  # type: ignore[list-item]


def test_unsupported_fields_drop(start_gateway: Callable[..., GatewayServer], fake_ollama: FakeOllama) -> None:
    server = start_gateway(unsupported_fields="drop")
    key = server.create_key("lenient")
    with _openai(server, key) as sdk:
        raw = sdk.responses.with_raw_response.create(model="llama3.2", input="hi", extra_body={"brand_new": 1})
        assert raw.headers["x-gateway-dropped-fields"] == "brand_new"
    with _claude(server, key) as claude:
        raw_msg = claude.messages.with_raw_response.create(
            model="qwen3", max_tokens=5, messages=[{"role": "user", "content": "hi"}], extra_body={"mcp_servers": []}
        )
        assert raw_msg.headers["x-gateway-dropped-fields"] == "mcp_servers"


def test_unsupported_fields_refused_by_default(gateway_server: GatewayServer) -> None:
    key = gateway_server.create_key("default")
    with _openai(gateway_server, key) as sdk, pytest.raises(openai.BadRequestError, match="brand_new"):
        sdk.responses.create(model="llama3.2", input="hi", extra_body={"brand_new": 1})


def test_dropped_tool_header_on_streams(gateway_server: GatewayServer) -> None:
    key = gateway_server.create_key("streams")
    with (
        _openai(gateway_server, key) as sdk,
        sdk.responses.with_streaming_response.create(
            model="llama3.2", input="hi", tools=[{"type": "web_search"}], stream=True
        ) as response,
    ):
        assert response.headers["x-gateway-dropped-tools"] == "web_search"
        assert b"response.completed" in response.read()
    with (
        _claude(gateway_server, key) as claude,
        claude.messages.with_streaming_response.create(
            model="qwen3", max_tokens=5, messages=[{"role": "user", "content": "hi"}], tools=[WEB_SEARCH], stream=True
        ) as raw,
    ):
        assert raw.headers["x-gateway-dropped-tools"] == "web_search"
        assert b"message_stop" in raw.read()
