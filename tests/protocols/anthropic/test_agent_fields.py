"""What Claude Code sends that plain SDK clients rarely do: system turns, the billing header, server tools."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.core.leniency import Leniency
from ollama_gateway.core.messages import Message, TextPart
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.anthropic import decode_messages

DROP_ALL = Leniency(hosted_tools="drop", unsupported_fields="drop")
CLIENT_TOOL = {"name": "Read", "input_schema": {"type": "object", "properties": {}}}
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}], **fields}


def text(role: str, value: str) -> Message:
    return Message(role=role, parts=(TextPart(value),))  # type: ignore[arg-type]


def test_system_turn_becomes_a_system_message_at_its_position() -> None:
    turns = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "user", "content": "more"},
    ]
    chat, _ = decode_messages(body(messages=turns))
    assert chat.messages == (
        text("user", "hi"),
        Message(role="assistant", parts=(TextPart("hello"),)),
        text("system", "a\n\nb"),
        text("user", "more"),
    )


def test_billing_header_block_is_dropped() -> None:
    system = [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.461; cc_entrypoint=sdk-cli;"},
        {"type": "text", "text": "You are a Claude agent.", "cache_control": {"type": "ephemeral"}},
    ]
    chat, _ = decode_messages(body(system=system))
    assert chat.messages[0] == text("system", "You are a Claude agent.")


def test_server_tools_dropped_by_default_setting_and_named() -> None:
    chat, options = decode_messages(body(tools=[WEB_SEARCH, CLIENT_TOOL]), Leniency())
    assert [t.name for t in chat.tools] == ["Read"]
    assert options.dropped.tools == ("web_search",)


def test_server_tools_refused_when_configured() -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_messages(body(tools=[CLIENT_TOOL, WEB_SEARCH]), Leniency(hosted_tools="refuse"))
    assert info.value.param == "tools.1.type"
    assert "web_search_20250305" in str(info.value)


def test_anthropic_defined_client_tools_stay_refused_even_with_drop() -> None:
    with pytest.raises(InvalidRequestError, match="text_editor_20250728"):
        decode_messages(body(tools=[{"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}]), DROP_ALL)


def test_tool_choice_naming_a_dropped_tool_is_a_400() -> None:
    with pytest.raises(InvalidRequestError, match="no tool named 'web_search'"):
        decode_messages(body(tools=[WEB_SEARCH], tool_choice={"type": "tool", "name": "web_search"}), Leniency())


def test_unsupported_fields_dropped_when_configured() -> None:
    chat, options = decode_messages(body(mcp_servers=[{"type": "url"}], brand_new_field=1), DROP_ALL)
    assert options.dropped.fields == ("mcp_servers", "brand_new_field")
    plain, _ = decode_messages(body())
    assert chat == plain


def test_unsupported_fields_refused_by_default() -> None:
    with pytest.raises(InvalidRequestError, match="brand_new_field"):
        decode_messages(body(brand_new_field=1), Leniency())


def test_claude_code_first_request_decodes() -> None:
    """The shape of Claude Code 2.1.332's first request (recorded), trimmed to one tool."""
    payload = body(
        system=[
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.461; cc_entrypoint=sdk-cli;"},
            {"type": "text", "text": "You are a Claude agent.", "cache_control": {"type": "ephemeral"}},
        ],
        tools=[CLIENT_TOOL, {**CLIENT_TOOL, "name": "DeferredToolPlaceholder", "defer_loading": True}],
        metadata={"user_id": '{"device_id":"d","account_uuid":"","session_id":"s"}'},
        max_tokens=32000,
        thinking={"budget_tokens": 31999, "type": "enabled", "display": "omitted"},
        context_management={"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        stream=True,
    )
    chat, options = decode_messages(payload, Leniency())
    assert chat.controls.think == "high"
    assert options.thinking_display == "omitted"
    assert options.applied_edits == ()
    assert not options.dropped


def test_tool_reference_in_a_tool_result_tells_the_model_the_tool_is_there() -> None:
    turns = [
        {"role": "user", "content": "find a tool"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "ToolSearch", "input": {}}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": [{"type": "tool_reference", "tool_name": "Read"}],
                }
            ],
        },
    ]
    chat, _ = decode_messages(body(messages=turns, tools=[CLIENT_TOOL]))
    assert chat.messages[-1].role == "tool"
    assert chat.messages[-1].text == "Tool 'Read' is available."
