"""Anthropic tool declarations and tool_choice → core ToolSpecs and ToolChoice. Pure.

Server tools (web search, web fetch, code execution, tool search, MCP toolsets) run on Anthropic's side: they
are dropped and named when the operator chose `HOSTED_TOOLS=drop`, otherwise refused. Anthropic-defined client
tools (bash, text editor, computer, memory) have no schema in the request and stay refused.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from ollama_gateway.core.leniency import Leniency
from ollama_gateway.core.messages import ToolSpec
from ollama_gateway.core.requests import ToolChoice
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.anthropic.schemas import (
    CustomTool,
    FunctionTool,
    MessagesRequest,
    ToolChoiceAny,
    ToolChoiceAuto,
    ToolChoiceNone,
    ToolChoiceTool,
)

# Tool types Anthropic runs on its own servers (by prefix of the versioned type). Ollama cannot run them.
SERVER_TOOL_PREFIXES: Final[tuple[str, ...]] = (
    "web_search_",
    "web_fetch_",
    "code_execution_",
    "tool_search_tool_",
    "mcp_toolset",
)


def split_server_tools(tools: Any, leniency: Leniency) -> tuple[list[Any] | None, tuple[str, ...]]:
    """The tools without server tools (dropped under HOSTED_TOOLS=drop, else refused), and the dropped names."""
    if not isinstance(tools, list):
        return None, ()  # absent, or validation reports the wrong type
    kept: list[Any] = []
    dropped: list[str] = []
    for i, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind in (None, "custom", "function"):
            kept.append(tool)
            continue
        hosted = isinstance(kind, str) and kind.startswith(SERVER_TOOL_PREFIXES)
        if hosted and leniency.hosted_tools == "drop":
            name = tool.get("name")
            dropped.append(name if isinstance(name, str) and name else str(kind))
            continue
        reason = "it runs on Anthropic's servers" if hosted else "only client tools run on Ollama"
        raise InvalidRequestError(f"tools.{i}: tool type {kind!r} is not supported ({reason})", param=f"tools.{i}.type")
    return kept, tuple(dropped)


def tool_spec(tool: CustomTool | FunctionTool) -> ToolSpec:
    """The core spec of one client tool; input examples are appended to the description."""
    if isinstance(tool, FunctionTool):
        fn = tool.function
        parameters = fn.parameters if fn.parameters is not None else {"type": "object", "properties": {}}
        return ToolSpec(name=fn.name, parameters=parameters, description=fn.description)
    description = tool.description
    if tool.input_examples:
        # Examples are content the model should see; Ollama tools have no field for them.
        examples = "\n".join(orjson.dumps(e).decode() for e in tool.input_examples)
        description = f"{description}\n\nInput examples:\n{examples}" if description else f"Input examples:\n{examples}"
    return ToolSpec(name=tool.name, parameters=tool.input_schema, description=description)


def check_unique_tool_names(tools: tuple[ToolSpec, ...]) -> None:
    """A 400 when two tools share a name."""
    seen: set[str] = set()
    for tool in tools:
        if tool.name in seen:
            raise InvalidRequestError(f"tools: duplicate tool name {tool.name!r}", param="tools")
        seen.add(tool.name)


def tool_choice(request: MessagesRequest, tools: tuple[ToolSpec, ...]) -> tuple[ToolChoice | None, bool]:
    """The core tool choice and whether parallel tool use was disabled (accepted, not enforceable on Ollama)."""
    match request.tool_choice:
        case None:
            return None, False
        case ToolChoiceNone():
            return "none", False
        case ToolChoiceAuto(disable_parallel_tool_use=no_parallel):
            return "auto", bool(no_parallel)
        case ToolChoiceAny(disable_parallel_tool_use=no_parallel):
            if not tools:
                raise InvalidRequestError("tool_choice: type any requires tools", param="tool_choice")
            return "required", bool(no_parallel)
        case ToolChoiceTool(name=name, disable_parallel_tool_use=no_parallel):
            if name not in {t.name for t in tools}:
                raise InvalidRequestError(f"tool_choice.name: no tool named {name!r}", param="tool_choice.name")
            return name, bool(no_parallel)
    raise AssertionError("unreachable")  # pragma: no cover
