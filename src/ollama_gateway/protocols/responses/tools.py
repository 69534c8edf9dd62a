"""Responses tools → the chat decoder's function tools, with what the response needs to name calls back.

`function` tools map one to one. `namespace` tools are flattened to `namespace__name` functions. A `custom`
tool (its input is free text, optionally shaped by a lark or regex grammar) becomes a function with one
string argument, `input`, whose description shows the model the grammar: Ollama's tools take JSON objects
and cannot enforce a grammar. The flat names of namespaced and custom tools are kept, so a call comes back
as the item the client declared (`function_call` with its `namespace`, or `custom_tool_call`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ollama_gateway.core.leniency import Leniency
from ollama_gateway.core.requests import ToolChoice
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai import schemas as openai_schemas
from ollama_gateway.protocols.openai.schemas import parse_model
from ollama_gateway.protocols.responses import schemas
from ollama_gateway.protocols.responses.decode_input import CUSTOM_INPUT, flat_tool_name


@dataclass(slots=True)
class Tools:
    """The tools gathered from `tools`: chat-decoder shapes, response echoes, namespaced and custom names, dropped
    ones."""

    chat: list[openai_schemas.Tool] = field(default_factory=list)
    wire: list[dict[str, Any]] = field(default_factory=list)
    namespaced: dict[str, tuple[str, str]] = field(default_factory=dict)
    custom: set[str] = field(default_factory=set)
    dropped: list[str] = field(default_factory=list)


def gather_tools(declared: list[tuple[str, dict[str, Any]]], leniency: Leniency) -> Tools:
    """Function and custom tools as the chat decoder's shape (to share its checks), as the response echoes them,
    the namespaced and custom ones by flat name, and the hosted tools dropped."""
    out = Tools()
    for param, entry in declared:
        kind = entry.get("type")
        if kind == "function":
            out.wire.append(_function(out, entry, param, None, None))
        elif kind == "custom":
            out.wire.append(_custom(out, entry, param, None, None))
        elif kind == "namespace":
            out.wire.append(_namespace(out, entry, param))
        elif kind in schemas.HOSTED_TOOL_TYPES and leniency.hosted_tools == "drop":
            out.dropped.append(str(kind))
        else:
            hosted = kind in schemas.HOSTED_TOOL_TYPES
            raise InvalidRequestError(
                f"Tool type {kind!r} is not supported; only 'function', 'custom' and 'namespace' tools are"
                + (
                    " (hosted tools run on OpenAI's side; HOSTED_TOOLS=drop lets the gateway drop them)."
                    if hosted
                    else "."
                ),
                param=f"{param}.type",
                code="unsupported",
            )
    return out


def _function(
    out: Tools, entry: dict[str, Any], param: str, namespace: str | None, context: str | None
) -> dict[str, Any]:
    spec = parse_model(schemas.FunctionTool, entry, param)
    name, description = _flat(out, spec.name, spec.description, namespace, context)
    function = openai_schemas.FunctionDef(
        name=name, description=description, parameters=spec.parameters, strict=spec.strict
    )
    out.chat.append(openai_schemas.Tool(type="function", function=function))
    return {
        "type": "function",
        "name": spec.name,
        "description": spec.description,
        "parameters": spec.parameters,
        "strict": spec.strict if spec.strict is not None else True,
    }


def _flat(
    out: Tools, name: str, description: str | None, namespace: str | None, context: str | None
) -> tuple[str, str | None]:
    """The name Ollama knows a tool by (a namespaced one remembered), and the description it sees."""
    flat = flat_tool_name(namespace, name)
    if namespace is not None:
        out.namespaced[flat] = (namespace, name)
    if context:
        # The namespace's description is content the model should see; Ollama tools have no field for it.
        description = f"{context}\n\n{description}" if description else context
    return flat, description


def _custom(
    out: Tools, entry: dict[str, Any], param: str, namespace: str | None, context: str | None
) -> dict[str, Any]:
    spec = parse_model(schemas.CustomTool, entry, param)
    name, description = _flat(out, spec.name, spec.description, namespace, context)
    out.custom.add(name)
    parameters = {
        "type": "object",
        "properties": {CUSTOM_INPUT: {"type": "string", "description": _custom_input_hint(spec.format, param)}},
        "required": [CUSTOM_INPUT],
        "additionalProperties": False,
    }
    function = openai_schemas.FunctionDef(name=name, description=description, parameters=parameters)
    out.chat.append(openai_schemas.Tool(type="function", function=function))
    echo: dict[str, Any] = {"type": "custom", "name": spec.name, "description": spec.description}
    echo["format"] = spec.format if spec.format is not None else {"type": "text"}
    return echo


def _custom_input_hint(fmt: Mapping[str, Any] | None, param: str) -> str:
    """What the model is told about a custom tool's free-text input: plain text, or text its grammar accepts."""
    kind = (fmt or {}).get("type", "text")
    if kind == "text":
        return "The tool's whole input, as plain text (not JSON)."
    if kind == "grammar":
        syntax, definition = (fmt or {}).get("syntax"), (fmt or {}).get("definition")
        if not isinstance(definition, str) or syntax not in ("lark", "regex"):
            raise InvalidRequestError(
                f"Invalid value for '{param}.format': a grammar needs 'syntax' ('lark' or 'regex') and a "
                "'definition' string.",
                param=f"{param}.format",
            )
        return f"The tool's whole input, as raw text (not JSON) that this {syntax} grammar accepts:\n{definition}"
    raise InvalidRequestError(
        f"Invalid value for '{param}.format.type': {kind!r}; expected 'text' or 'grammar'.",
        param=f"{param}.format.type",
    )


def _namespace(out: Tools, entry: dict[str, Any], param: str) -> dict[str, Any]:
    spec = parse_model(schemas.NamespaceTool, entry, param)
    inner: list[dict[str, Any]] = []
    for j, tool in enumerate(spec.tools):
        at = f"{param}.tools[{j}]"
        kind = tool.get("type")
        if kind not in ("function", "custom"):
            raise InvalidRequestError(
                f"Tool type {kind!r} is not supported inside a namespace; only 'function' and 'custom' tools are.",
                param=f"{at}.type",
                code="unsupported",
            )
        add = _function if kind == "function" else _custom
        inner.append(add(out, tool, at, spec.name, spec.description))
    return {"type": "namespace", "name": spec.name, "description": spec.description, "tools": inner}


def chat_tool_choice(value: Any, tools: Tools) -> Any:
    """`{type: function|custom, name}` in the chat decoder's nested shape; everything else as it came."""
    if isinstance(value, dict) and value.get("type") == "custom" and value.get("name") in tools.custom:
        value = {**value, "type": "function"}
    if isinstance(value, dict) and value.get("type") == "function" and "function" not in value:
        if set(value) - {"type", "name"}:
            extra = sorted(set(value) - {"type", "name"})[0]
            raise InvalidRequestError(f"Unrecognized argument: 'tool_choice.{extra}'.", param=f"tool_choice.{extra}")
        return {"type": "function", "function": {"name": value.get("name")}}
    return value


def echo_tool_choice(choice: ToolChoice | None, tools: Tools) -> Any:
    if choice is None:
        return "auto"
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "custom" if choice in tools.custom else "function", "name": choice}
