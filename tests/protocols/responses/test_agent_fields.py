"""What Codex CLI sends on /v1/responses: client_metadata, namespace tools, the hosted web_search tool."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.core.events import Finished, ToolCallEvent
from ollama_gateway.core.leniency import Leniency
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.responses import decode_response_request
from tests.protocols.responses.helpers import body_for, parse_sse, stream_bytes, validate_event

PARAMS = {"type": "object", "properties": {"id": {"type": "string"}}}
NAMESPACE = {
    "type": "namespace",
    "name": "multi_agent_v1",
    "description": "Tools for spawning and managing sub-agents.",
    "tools": [
        {"type": "function", "name": "spawn_agent", "description": "Spawn one.", "strict": False, "parameters": PARAMS},
        {"type": "function", "name": "wait_agent", "parameters": PARAMS},
    ],
}
EXEC = {"type": "function", "name": "exec_command", "description": "Run.", "strict": False, "parameters": PARAMS}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "input": "hi", **fields}


def test_client_metadata_accepted_and_ignored() -> None:
    plain, _ = decode_response_request(body())
    chat, _ = decode_response_request(body(client_metadata={"session_id": "s", "x-codex-turn-metadata": "{}"}))
    assert chat == plain


@pytest.mark.parametrize("value", [["a"], {"n": 1}, "s"])
def test_client_metadata_type_checked(value: Any) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_response_request(body(client_metadata=value))
    assert info.value.param == "client_metadata"


def test_namespace_tools_are_flattened() -> None:
    chat, options = decode_response_request(body(tools=[EXEC, NAMESPACE]))
    assert [t.name for t in chat.tools] == ["exec_command", "multi_agent_v1__spawn_agent", "multi_agent_v1__wait_agent"]
    spawn = chat.tools[1]
    assert spawn.description == "Tools for spawning and managing sub-agents.\n\nSpawn one."
    assert spawn.parameters == PARAMS
    assert options.namespaced == {
        "multi_agent_v1__spawn_agent": ("multi_agent_v1", "spawn_agent"),
        "multi_agent_v1__wait_agent": ("multi_agent_v1", "wait_agent"),
    }
    assert options.tools[1]["type"] == "namespace"
    assert [t["name"] for t in options.tools[1]["tools"]] == ["spawn_agent", "wait_agent"]


def test_namespace_with_non_function_tool_is_a_400() -> None:
    bad = {**NAMESPACE, "tools": [{"type": "web_search"}]}
    with pytest.raises(InvalidRequestError) as info:
        decode_response_request(body(tools=[bad]))
    assert info.value.param == "tools[0].tools[0].type"


def test_namespaced_call_maps_back_in_body_and_stream() -> None:
    _, options = decode_response_request(body(tools=[NAMESPACE]))
    call = ToolCall(id="call_1", name="multi_agent_v1__spawn_agent", arguments={"id": "a"}, index=0)
    events = [ToolCallEvent(call), Finished("tool_calls", Usage(1, 1))]
    (item,) = body_for(events, options)["output"]
    assert (item["type"], item["name"], item["namespace"]) == ("function_call", "spawn_agent", "multi_agent_v1")
    frames = parse_sse(stream_bytes(events, options))
    for frame in frames:
        validate_event(frame)
    done = [f["item"] for f in frames if f["type"] == "response.output_item.done"]
    assert [(i["name"], i["namespace"]) for i in done] == [("spawn_agent", "multi_agent_v1")]


def test_plain_call_has_no_namespace() -> None:
    _, options = decode_response_request(body(tools=[EXEC, NAMESPACE]))
    call = ToolCall(id="call_1", name="exec_command", arguments={}, index=0)
    (item,) = body_for([ToolCallEvent(call), Finished("tool_calls", Usage(1, 1))], options)["output"]
    assert "namespace" not in item


def test_input_function_call_with_namespace_goes_back_to_the_flat_tool() -> None:
    items = [
        {"type": "message", "role": "user", "content": "spawn"},
        {"type": "function_call", "call_id": "c1", "name": "spawn_agent", "namespace": "multi_agent_v1",
         "arguments": "{\"id\": \"a\"}"},
        {"type": "function_call_output", "call_id": "c1", "output": "started"},
    ]  # fmt: skip
    chat, _ = decode_response_request(body(input=items, tools=[NAMESPACE]))
    assert chat.messages[1].tool_calls[0].name == "multi_agent_v1__spawn_agent"
    assert chat.messages[2].tool_name == "multi_agent_v1__spawn_agent"


def test_web_search_dropped_by_default_setting() -> None:
    chat, options = decode_response_request(
        body(tools=[EXEC, {"type": "web_search", "external_web_access": False}]), Leniency()
    )
    assert [t.name for t in chat.tools] == ["exec_command"]
    assert options.dropped.tools == ("web_search",)
    assert [t["name"] for t in options.tools] == ["exec_command"]


def test_web_search_refused_when_configured() -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_response_request(body(tools=[{"type": "web_search"}]), Leniency(hosted_tools="refuse"))
    assert info.value.param == "tools[0].type"
    assert "HOSTED_TOOLS=drop" in str(info.value)


def test_unsupported_fields_dropped_when_configured() -> None:
    lenient = Leniency(unsupported_fields="drop")
    chat, options = decode_response_request(body(top_logprobs=3, something_new={"a": 1}), lenient)
    assert options.dropped.fields == ("top_logprobs", "something_new")
    plain, _ = decode_response_request(body())
    assert chat == plain
    with pytest.raises(InvalidRequestError, match="previous_response_id"):
        decode_response_request(body(previous_response_id="resp_1"), lenient)


def test_codex_first_request_decodes() -> None:
    """The shape of Codex CLI 0.171.0's first request (recorded), trimmed."""
    payload = {
        "model": "gpt-5-codex",
        "instructions": None,
        "input": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "developer",
                "content": [{"type": "input_text", "text": "rules"}],
            },
            {"type": "message", "id": "msg_2", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        ],
        "tools": [EXEC, NAMESPACE, {"type": "web_search", "external_web_access": False}],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "01a23446",
        "client_metadata": {"session_id": "s", "turn_id": "t"},
    }
    chat, options = decode_response_request(payload, Leniency())
    assert len(chat.tools) == 3
    assert options.dropped.tools == ("web_search",)
    assert chat.stream


def test_reasoning_context_all_turns_accepted_others_refused() -> None:
    chat, _ = decode_response_request(body(reasoning={"effort": "low", "context": "all_turns"}))
    assert chat.controls.think == "low"
    with pytest.raises(InvalidRequestError) as info:
        decode_response_request(body(reasoning={"context": "current_turn"}))
    assert info.value.param == "reasoning.context"
