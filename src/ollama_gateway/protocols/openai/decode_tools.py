"""OpenAI `tools`/`tool_choice` (and legacy `functions`/`function_call`) → core tool specs and choice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from ollama_gateway.core.messages import ToolSpec
from ollama_gateway.core.requests import ToolChoice
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai import schemas

TOOL_CHOICE_MODES: Final[frozenset[str]] = frozenset({"none", "auto", "required"})
EMPTY_PARAMETERS: Final[dict[str, Any]] = {"type": "object", "properties": {}}


def decode_tools(
    tools: Sequence[schemas.Tool] | None,
    tool_choice: Any,
    functions: Sequence[schemas.FunctionDef] | None,
    function_call: Any,
) -> tuple[tuple[ToolSpec, ...], ToolChoice | None]:
    """The tool list and the choice among them; a named choice must name a declared tool."""
    if tools is not None and functions is not None:
        raise InvalidRequestError("Send either 'tools' or the legacy 'functions', not both.", param="functions")
    specs: list[ToolSpec] = []
    if tools is not None:
        for i, tool in enumerate(tools):
            if tool.type != "function":
                raise InvalidRequestError(
                    f"Tool type '{tool.type}' is not supported; only 'function' tools are.", param=f"tools[{i}].type"
                )
            if tool.function is None:
                raise InvalidRequestError(
                    f"Missing required parameter: 'tools[{i}].function'.", param=f"tools[{i}].function"
                )
            specs.append(_spec(tool.function, f"tools[{i}].function"))
    for i, function in enumerate(functions or ()):
        specs.append(_spec(function, f"functions[{i}]"))
    names = [spec.name for spec in specs]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise InvalidRequestError(f"Duplicate tool name '{name}'.", param="tools")
    if tool_choice is not None:
        choice = _choice(tool_choice, "tool_choice")
        param = "tool_choice"
    elif function_call is not None:
        choice = _choice(function_call, "function_call")
        param = "function_call"
    else:
        return tuple(specs), None
    if choice not in ("none", "auto"):
        if not specs:
            raise InvalidRequestError(f"'{param}' {choice!r} needs 'tools' to be specified.", param=param)
        if choice != "required" and choice not in names:
            raise InvalidRequestError(f"'{param}' names '{choice}', which is not among the tools.", param=param)
    return tuple(specs), choice


def _spec(function: schemas.FunctionDef, param: str) -> ToolSpec:
    if not function.name:
        raise InvalidRequestError(f"Missing required parameter: '{param}.name'.", param=f"{param}.name")
    parameters = function.parameters if function.parameters is not None else dict(EMPTY_PARAMETERS)
    return ToolSpec(name=function.name, parameters=parameters, description=function.description)


def _choice(value: Any, param: str) -> ToolChoice:
    if isinstance(value, str):
        if value in TOOL_CHOICE_MODES:
            return value
        raise InvalidRequestError(
            f"Invalid value for '{param}': {value!r}; expected 'none', 'auto', 'required' or a function.",
            param=param,
        )
    if isinstance(value, dict):
        # tool_choice: {"type": "function", "function": {"name": X}}; function_call: {"name": X}
        if param == "function_call":
            name = value.get("name")
        elif value.get("type") == "function" and isinstance(value.get("function"), dict):
            name = value["function"].get("name")
        else:
            kind = value.get("type")
            raise InvalidRequestError(
                f"Unsupported '{param}' of type {kind!r}; use 'none', 'auto', 'required' or a function.", param=param
            )
        if isinstance(name, str) and name:
            return name
        raise InvalidRequestError(f"Missing required parameter: '{param}' function name.", param=param)
    raise InvalidRequestError(f"Invalid type for '{param}': expected a string or an object.", param=param)
