"""Responses `input` (a string or a list of items) → core messages.

Consecutive assistant-side items (`reasoning`, an assistant `message`, `function_call`s, `custom_tool_call`s)
form one assistant turn: reasoning becomes its thinking, the message its text, the calls its tool calls (a
custom tool's free-text input as the one argument `input`). A `function_call_output` or
`custom_tool_call_output` becomes a tool message named after the call it answers. `additional_tools` items
(tools declared inside the input, as Codex does in its "code mode") carry no message: `declared_tools` hands
their tools to the request's tool list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ollama_gateway.core.messages import Message, Part, Role, TextPart, ToolCall
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai.decode_messages import parse_arguments, parse_image
from ollama_gateway.protocols.openai.schemas import parse_model
from ollama_gateway.protocols.responses import schemas

ROLES: Final[Mapping[str, Role]] = {
    "user": "user",
    "system": "system",
    "developer": "system",
    "assistant": "assistant",
}
"""Responses message roles → core roles."""

PART_TYPES_BY_ROLE: Final[Mapping[Role, frozenset[str]]] = {
    "user": frozenset({"input_text", "input_image"}),
    "system": frozenset({"input_text"}),
    "assistant": frozenset({"output_text", "input_text", "refusal"}),
    "tool": frozenset({"input_text", "input_image"}),
}
"""Content part types each role may carry; any other type is refused, never dropped."""

UNSUPPORTED_PART_TYPES: Final[Mapping[str, str]] = {
    "input_file": "file inputs are not supported; send the text as 'input_text'",
    "input_audio": "audio inputs are not supported",
}
"""Part types no role may carry, with the reason given in the 400."""

STATEFUL_ITEM_TYPES: Final[frozenset[str]] = frozenset({"item_reference", "compaction"})
"""Item types that point at stored state, which a stateless gateway does not have."""

CUSTOM_INPUT: Final[str] = "input"
"""The one string argument a `custom` tool becomes for Ollama, whose tools take JSON objects."""

NAMESPACE_SEPARATOR: Final[str] = "__"
"""Joins a `namespace` tool's name and one of its functions into the one flat name Ollama sees."""


def flat_tool_name(namespace: str | None, name: str) -> str:
    """The name Ollama knows a (possibly namespaced) function by: `namespace__name`, or the name itself."""
    return f"{namespace}{NAMESPACE_SEPARATOR}{name}" if namespace else name


@dataclass(slots=True)
class _Turn:
    """An assistant turn being assembled from consecutive items."""

    thinking: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)

    def message(self) -> Message | None:
        if not (self.thinking or self.parts or self.calls):
            return None
        thinking = "\n\n".join(self.thinking) or None
        return Message(role="assistant", parts=tuple(self.parts), thinking=thinking, tool_calls=tuple(self.calls))


def decode_input(raw: Any) -> tuple[Message, ...]:
    """Translate `input`; a function_call_output must answer an earlier function_call."""
    if raw is None:
        raise InvalidRequestError("Missing required parameter: 'input'.", param="input")
    if isinstance(raw, str):
        return (Message(role="user", parts=(TextPart(raw),) if raw else ()),)
    if not isinstance(raw, list):
        raise InvalidRequestError(
            "Invalid type for 'input': expected a string or an array of input items.", param="input"
        )
    if not raw:
        raise InvalidRequestError("[] is too short - 'input'", param="input")
    out: list[Message] = []
    call_names: dict[str, str] = {}
    turn = _Turn()

    def flush() -> None:
        nonlocal turn
        message = turn.message()
        if message is not None:
            out.append(message)
        turn = _Turn()

    for i, item in enumerate(raw):
        param = f"input[{i}]"
        if not isinstance(item, dict):
            raise InvalidRequestError(f"Invalid type for '{param}': expected an object.", param=param)
        kind = item.get("type")
        if kind is None or kind == "message":
            message = _message(item, param)
            if message.role == "assistant":
                if turn.parts or turn.calls:
                    flush()
                turn.parts.extend(message.parts)
            else:
                flush()
                out.append(message)
        elif kind == "reasoning":
            if turn.parts or turn.calls:
                flush()
            text = _reasoning(item, param)
            if text:
                turn.thinking.append(text)
        elif kind in ("function_call", "custom_tool_call"):
            call = (_function_call if kind == "function_call" else _custom_tool_call)(item, param, len(turn.calls))
            call_names[call.id] = call.name
            turn.calls.append(call)
        elif kind in ("function_call_output", "custom_tool_call_output"):
            flush()
            out.append(_function_output(item, param, call_names))
        elif kind == "additional_tools":
            continue  # its tools are the request's (declared_tools); it is no message
        elif kind in STATEFUL_ITEM_TYPES:
            raise InvalidRequestError(
                f"Input items of type '{kind}' refer to stored state, which this gateway does not keep; "
                "send the items themselves.",
                param=f"{param}.type",
            )
        else:
            raise InvalidRequestError(
                f"Input items of type {kind!r} are not supported; send messages, function and custom tool calls, "
                "their outputs, reasoning items and additional_tools.",
                param=f"{param}.type",
            )
    flush()
    return tuple(out)


def declared_tools(raw: Any) -> list[tuple[str, dict[str, Any]]]:
    """The tools `additional_tools` input items declare, each with its parameter path for error messages."""
    if not isinstance(raw, list):
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("type") != "additional_tools":
            continue
        tools = item.get("tools")
        if not isinstance(tools, list):
            raise InvalidRequestError(
                f"Invalid type for 'input[{i}].tools': expected an array of tools.", param=f"input[{i}].tools"
            )
        for j, tool in enumerate(tools):
            at = f"input[{i}].tools[{j}]"
            if not isinstance(tool, dict):
                raise InvalidRequestError(f"Invalid type for '{at}': expected an object.", param=at)
            found.append((at, tool))
    return found


def _message(raw: dict[str, Any], param: str) -> Message:
    item = parse_model(schemas.MessageItem, raw, param)
    role = ROLES.get(item.role)
    if role is None:
        allowed = ", ".join(f"'{name}'" for name in ROLES)
        raise InvalidRequestError(
            f"Invalid value for '{param}.role': {item.role!r}; expected one of {allowed}.", param=f"{param}.role"
        )
    return Message(role=role, parts=_parts(item.content, role, f"{param}.content"))


def _parts(content: Any, role: Role, param: str) -> tuple[Part, ...]:
    if content is None:
        raise InvalidRequestError(f"Missing required parameter: '{param}'.", param=param)
    if isinstance(content, str):
        return (TextPart(content),) if content else ()
    if not isinstance(content, list):
        raise InvalidRequestError(
            f"Invalid type for '{param}': expected a string or an array of content parts.", param=param
        )
    parts: list[Part] = []
    for k, raw in enumerate(content):
        part_param = f"{param}[{k}]"
        part = parse_model(schemas.InputPart, raw, part_param)
        if part.type in UNSUPPORTED_PART_TYPES:
            raise InvalidRequestError(
                f"Content part type '{part.type}' is not supported: {UNSUPPORTED_PART_TYPES[part.type]}.",
                param=f"{part_param}.type",
            )
        if part.type not in PART_TYPES_BY_ROLE[role]:
            raise InvalidRequestError(
                f"Content part type {part.type!r} is not allowed here ({role} content).", param=f"{part_param}.type"
            )
        parts.append(_part(part, part_param))
    return tuple(parts)


def _part(part: schemas.InputPart, param: str) -> Part:
    if part.type == "input_image":
        if part.file_id is not None:
            raise InvalidRequestError(
                f"'{param}.file_id' is not supported: uploaded files are not available; send 'image_url' as a data "
                "URL or an http(s) URL.",
                param=f"{param}.file_id",
            )
        if part.image_url is None:
            raise InvalidRequestError(f"Missing required parameter: '{param}.image_url'.", param=f"{param}.image_url")
        return parse_image(part.image_url, f"{param}.image_url")
    text = part.refusal if part.type == "refusal" else part.text
    if text is None:
        name = "refusal" if part.type == "refusal" else "text"
        raise InvalidRequestError(f"Missing required parameter: '{param}.{name}'.", param=f"{param}.{name}")
    return TextPart(text)


def _reasoning(raw: dict[str, Any], param: str) -> str:
    item = parse_model(schemas.ReasoningItem, raw, param)
    # Raw reasoning text when the client kept it; otherwise the summary the gateway sent.
    entries = item.content if item.content else item.summary
    return "\n\n".join(entry.text for entry in entries if entry.text)


def _function_call(raw: dict[str, Any], param: str, index: int) -> ToolCall:
    item = parse_model(schemas.FunctionCallItem, raw, param)
    if not item.call_id:
        raise InvalidRequestError(f"Missing required parameter: '{param}.call_id'.", param=f"{param}.call_id")
    arguments = parse_arguments(item.arguments, f"{param}.arguments")
    return ToolCall(id=item.call_id, name=flat_tool_name(item.namespace, item.name), arguments=arguments, index=index)


def _custom_tool_call(raw: dict[str, Any], param: str, index: int) -> ToolCall:
    item = parse_model(schemas.CustomToolCallItem, raw, param)
    if not item.call_id:
        raise InvalidRequestError(f"Missing required parameter: '{param}.call_id'.", param=f"{param}.call_id")
    name = flat_tool_name(item.namespace, item.name)
    return ToolCall(id=item.call_id, name=name, arguments={CUSTOM_INPUT: item.input}, index=index)


def _function_output(raw: dict[str, Any], param: str, call_names: Mapping[str, str]) -> Message:
    item = parse_model(schemas.FunctionCallOutputItem, raw, param)
    name = call_names.get(item.call_id)
    if name is None:
        raise InvalidRequestError(
            f"'{param}.call_id' {item.call_id!r} does not match any earlier function_call or custom_tool_call item.",
            param=f"{param}.call_id",
        )
    if item.output is None:
        raise InvalidRequestError(f"Missing required parameter: '{param}.output'.", param=f"{param}.output")
    parts = _parts(item.output, "tool", f"{param}.output")
    return Message(role="tool", parts=parts, tool_name=name, tool_call_id=item.call_id)
