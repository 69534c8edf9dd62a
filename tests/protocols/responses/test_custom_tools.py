"""Custom (free-text) tools on /v1/responses, and the `additional_tools` input item of Codex's "code mode".

Ollama's tools take JSON objects, so a custom tool goes to Ollama as a function with one string argument,
`input`, and its calls come back to the client as `custom_tool_call` items carrying that text.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.responses import Response

from ollama_gateway.core.events import Finished, ToolCallEvent
from ollama_gateway.core.leniency import Leniency
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.responses import decode_response_request
from ollama_gateway.protocols.responses.shapes import custom_input
from tests.protocols.responses.helpers import body_for, parse_sse, stream_bytes, types, validate_event

GRAMMAR = {"type": "grammar", "syntax": "lark", "definition": "start: SOURCE\nSOURCE: /[\\s\\S]+/\n"}
APPLY_PATCH = {"type": "custom", "name": "apply_patch", "description": "Apply a patch.", "format": GRAMMAR}
PARAMS = {"type": "object", "properties": {"ms": {"type": "number"}}}
# The shape of Codex CLI 0.171.0's code-mode request (recorded), trimmed: tools come in an input item.
CODE_MODE_TOOLS = {
    "type": "additional_tools",
    "id": "at_1",
    "role": "developer",
    "tools": [
        {
            "type": "namespace",
            "name": "functions",
            "description": "",
            "tools": [
                {"type": "custom", "name": "exec", "description": "Run JavaScript.", "format": GRAMMAR},
                {"type": "function", "name": "wait", "description": "Wait.", "strict": False, "parameters": PARAMS},
            ],
        }
    ],
}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "input": "hi", **fields}


def test_custom_tool_becomes_a_function_with_one_string_argument() -> None:
    chat, options = decode_response_request(body(tools=[APPLY_PATCH]))
    (tool,) = chat.tools
    assert tool.name == "apply_patch" and tool.description == "Apply a patch."
    assert tool.parameters is not None and tool.parameters["required"] == ["input"]
    hint = tool.parameters["properties"]["input"]
    assert hint["type"] == "string" and "lark grammar" in hint["description"]
    assert GRAMMAR["definition"] in hint["description"]  # Ollama cannot enforce the grammar; the model sees it
    assert options.custom == frozenset({"apply_patch"})
    assert options.tools == (APPLY_PATCH,)


def test_custom_tool_without_format_takes_plain_text() -> None:
    chat, _ = decode_response_request(body(tools=[{"type": "custom", "name": "note"}]))
    assert chat.tools[0].parameters is not None
    assert "plain text" in chat.tools[0].parameters["properties"]["input"]["description"]


@pytest.mark.parametrize(
    ("fmt", "param"),
    [
        ({"type": "grammar", "syntax": "ebnf", "definition": "x"}, "tools[0].format"),
        ({"type": "grammar", "syntax": "lark"}, "tools[0].format"),
        ({"type": "json"}, "tools[0].format.type"),
    ],
)
def test_bad_custom_format_is_a_400_naming_it(fmt: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_response_request(body(tools=[{"type": "custom", "name": "t", "format": fmt}]))
    assert info.value.param == param


def test_code_mode_tools_declared_in_the_input_join_the_request() -> None:
    user = {"type": "message", "role": "user", "content": "hi"}
    chat, options = decode_response_request(body(input=[CODE_MODE_TOOLS, user]), Leniency())
    assert [t.name for t in chat.tools] == ["functions__exec", "functions__wait"]
    assert options.custom == frozenset({"functions__exec"})
    assert options.namespaced["functions__exec"] == ("functions", "exec")
    assert [m.role for m in chat.messages] == ["user"]  # the item carries tools, not a message


def test_additional_tools_must_be_a_list() -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_response_request(body(input=[{"type": "additional_tools", "tools": "exec"}]))
    assert info.value.param == "input[0].tools"


def test_a_custom_tool_of_unknown_kind_inside_a_namespace_is_refused() -> None:
    namespace = {"type": "namespace", "name": "n", "tools": [{"type": "web_search"}]}
    with pytest.raises(InvalidRequestError) as info:
        decode_response_request(body(tools=[namespace]))
    assert info.value.param == "tools[0].tools[0].type"


def test_custom_tool_call_history_round_trips() -> None:
    history = [
        {"type": "message", "role": "user", "content": "list files"},
        {
            "type": "custom_tool_call",
            "id": "ctc_1",
            "call_id": "call_1",
            "namespace": "functions",
            "name": "exec",
            "input": "text(await tools.exec_command({cmd: 'ls'}))",
            "caller": {"type": "direct"},
            "async": False,
        },
        {"type": "custom_tool_call_output", "call_id": "call_1", "output": "a.txt"},
    ]
    chat, _ = decode_response_request(body(input=[CODE_MODE_TOOLS, *history]))
    assistant, tool = chat.messages[1], chat.messages[2]
    (call,) = assistant.tool_calls
    assert call.name == "functions__exec" and call.arguments == {"input": history[1]["input"]}
    assert tool.role == "tool" and tool.tool_name == "functions__exec" and tool.tool_call_id == "call_1"


def test_custom_tool_choice_maps_to_the_function_and_echoes_as_custom() -> None:
    choice = {"type": "custom", "name": "apply_patch"}
    chat, options = decode_response_request(body(tools=[APPLY_PATCH], tool_choice=choice))
    assert chat.tool_choice == "apply_patch"
    assert options.tool_choice == {"type": "custom", "name": "apply_patch"}


def _call_events(arguments: dict[str, Any]) -> list[Any]:
    call = ToolCall(id="call_7", name="functions__exec", arguments=arguments, index=0)
    return [ToolCallEvent(call), Finished(reason="tool_calls", usage=Usage(3, 4))]


def test_a_call_of_a_custom_tool_is_a_custom_tool_call_item() -> None:
    _, options = decode_response_request(body(input=[CODE_MODE_TOOLS, {"role": "user", "content": "hi"}]))
    response = body_for(_call_events({"input": "text(1 + 1)"}), options)
    (item,) = response["output"]
    assert item["type"] == "custom_tool_call" and item["input"] == "text(1 + 1)"
    assert (item["namespace"], item["name"], item["call_id"]) == ("functions", "exec", "call_7")
    parsed = Response.model_validate(response)
    assert parsed.output[0].type == "custom_tool_call"


def test_a_streamed_custom_tool_call_sends_its_input_events() -> None:
    _, options = decode_response_request(body(input=[CODE_MODE_TOOLS, {"role": "user", "content": "hi"}]))
    frames = parse_sse(stream_bytes(_call_events({"input": "text(2)"}), options))
    for frame in frames:
        validate_event(frame)
    assert types(frames)[2:6] == [
        "response.output_item.added",
        "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done",
        "response.output_item.done",
    ]
    added, delta, done, item_done = frames[2:6]
    assert added["item"]["input"] == "" and delta["delta"] == "text(2)" and done["input"] == "text(2)"
    assert item_done["item"] == frames[-1]["response"]["output"][0]
    assert item_done["item"]["type"] == "custom_tool_call" and item_done["item"]["name"] == "exec"


@pytest.mark.parametrize(
    ("arguments", "text"),
    [
        ({"input": "raw"}, "raw"),
        ({"code": "raw"}, "raw"),  # the one string argument, under another name
        ({"a": 1, "b": "x"}, '{"a":1,"b":"x"}'),  # anything else reaches the client as JSON text
    ],
)
def test_custom_input_from_what_the_model_sent(arguments: dict[str, Any], text: str) -> None:
    assert custom_input(ToolCall(id="c", name="t", arguments=arguments, index=0)) == text
