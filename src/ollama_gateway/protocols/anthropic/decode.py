"""Anthropic Messages request (parsed JSON) → core ChatRequest plus the Anthropic-only response options. Pure.

Conversation mapping:
- `system` becomes one leading system message (list blocks joined with a blank line).
- A user turn keeps its order: text and images gather into a user message; each `tool_result` flushes
  what came before it and becomes its own `tool` message (named after the matching earlier `tool_use`).
- An assistant turn becomes one assistant message, split where a block would go backwards in the order
  Ollama renders a message (thinking, then text, then tool calls), so no block is reordered.
- `thinking` blocks in history become `Message.thinking` (signatures are ours and never checked);
  empty ones (from `display: "omitted"`) carry nothing and are skipped.
- `redacted_thinking` blocks are accepted and skipped: they hold Anthropic-encrypted reasoning that no
  Ollama model can read, and clients must be able to echo a conversation that began on Anthropic.
- A `system` turn inside `messages` (text only) becomes a system message at that position.
- Claude Code's `x-anthropic-billing-header: ...` system block changes per conversation and would defeat
  Ollama's prompt-prefix reuse; it is dropped.
- `context_management` edits run on the validated conversation before any of this (`context_edits.py`).
- Server tools (web search, web fetch, code execution, ...) run only on Anthropic: refused, or dropped and
  reported when the operator chose `HOSTED_TOOLS=drop`. Likewise refused and unknown top-level fields under
  `UNSUPPORTED_FIELDS=drop`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from ollama_gateway.core.leniency import STRICT, Dropped, Leniency
from ollama_gateway.core.messages import ImagePart, Message, Part, TextPart, ToolCall
from ollama_gateway.core.requests import ChatRequest, GenerationControls
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.anthropic.context_edits import apply_context_edits
from ollama_gateway.protocols.anthropic.controls import OLLAMA_OPTION_TYPES, merge_options, think_value
from ollama_gateway.protocols.anthropic.estimate import estimate_input_tokens
from ollama_gateway.protocols.anthropic.schemas import (
    Base64ImageSource,
    ImageBlock,
    InputMessage,
    MessagesOptions,
    MessagesRequest,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingAdaptive,
    ThinkingBetweenTools,
    ThinkingBlock,
    ThinkingDisplay,
    ThinkingEnabled,
    ToolReferenceBlock,
    ToolResultBlock,
    ToolUseBlock,
    validate,
)
from ollama_gateway.protocols.anthropic.tools import check_unique_tool_names, split_server_tools, tool_choice, tool_spec

# Top-level fields accepted and ignored, because ignoring them cannot change the generated output.
IGNORED_FIELDS: Final[Mapping[str, str]] = {
    "metadata": "only identifies the end user to Anthropic",
    "service_tier": "Ollama has one tier",
    "cache_control": "prompt caching is Ollama's own (automatic) business",
    "container": "only used by server tools, which are refused",
    "inference_geo": "inference runs where the Ollama host is",
    "speed": "Ollama has one speed",
    "diagnostics": "prompt-cache diagnostics; the response reports none",
    "user_profile_id": "attribution inside Anthropic's organisation model",
    "workspace_id": "attribution inside Anthropic's organisation model",
}

# Top-level fields refused, because ignoring them would change what the model sees or does.
REFUSED_FIELDS: Final[Mapping[str, str]] = {
    "mcp_servers": "MCP connectors are not supported",
}

# The first system block Claude Code sends; it differs per conversation and carries nothing for the model.
BILLING_HEADER_PREFIX: Final[str] = "x-anthropic-billing-header:"

# Ollama options that are not also Anthropic fields, accepted at the top level as on the OpenAI surface.
TOP_LEVEL_OLLAMA_OPTIONS: Final[frozenset[str]] = frozenset(OLLAMA_OPTION_TYPES) - {"temperature", "top_p", "top_k"}

ANTHROPIC_FIELDS: Final[frozenset[str]] = frozenset(MessagesRequest.model_fields)

# Ollama renders a message as thinking, then content, then tool calls.
_RENDER_RANK: Final[Mapping[str, int]] = {"thinking": 0, "text": 1, "image": 1, "tool_use": 2}


def decode_messages(body: Any, leniency: Leniency = STRICT) -> tuple[ChatRequest, MessagesOptions]:
    """Translate a Messages request body into a core ChatRequest and the Anthropic response options."""
    return _decode(body, leniency, require_max_tokens=True)


def decode_count_tokens(body: Any, leniency: Leniency = STRICT) -> tuple[ChatRequest, MessagesOptions]:
    """Validate a count_tokens body (like a Messages body, but `max_tokens` is optional) into a ChatRequest."""
    return _decode(body, leniency, require_max_tokens=False)


def _decode(body: Any, leniency: Leniency, *, require_max_tokens: bool) -> tuple[ChatRequest, MessagesOptions]:
    if not isinstance(body, dict):
        raise InvalidRequestError("request body must be a JSON object")
    dropped_fields = _check_fields(body, leniency)
    raw_tools, dropped_tools = split_server_tools(body.get("tools"), leniency)
    wire_fields = {k: v for k, v in body.items() if k in ANTHROPIC_FIELDS}
    if raw_tools is not None:
        wire_fields["tools"] = raw_tools
    top_options = {k: v for k, v in body.items() if k in TOP_LEVEL_OLLAMA_OPTIONS}
    request = validate(MessagesRequest, wire_fields)
    if require_max_tokens and request.max_tokens is None:
        raise InvalidRequestError("max_tokens: Field required", param="max_tokens")

    tools = tuple(tool_spec(t) for t in request.tools or ())
    check_unique_tool_names(tools)
    system = tuple(_system(request))
    turns: tuple[InputMessage, ...] = tuple(request.messages)
    applied: tuple[dict[str, Any], ...] | None = None
    original: int | None = None
    if request.context_management is not None:

        def estimate(conversation: Sequence[InputMessage]) -> int:
            return estimate_input_tokens(
                ChatRequest(model=request.model, messages=system + _conversation(conversation), tools=tools)
            )

        original = estimate(turns)
        edited = apply_context_edits(turns, request.context_management.edits, estimate)
        turns, applied = edited.messages, edited.applied
    messages = system + _conversation(turns)
    options = _options(request, top_options)
    after_tool_results = bool(messages) and messages[-1].role == "tool"
    effort = request.output_config.effort if request.output_config else None
    think = think_value(
        think=request.think, thinking=request.thinking, effort=effort, after_tool_results=after_tool_results
    )
    fmt = request.output_config.format.schema_ if request.output_config and request.output_config.format else None
    choice, no_parallel = tool_choice(request, tools)
    display: ThinkingDisplay = "summarized"
    if isinstance(request.thinking, ThinkingEnabled | ThinkingAdaptive | ThinkingBetweenTools):
        display = request.thinking.display or "summarized"
    chat = ChatRequest(
        model=request.model,
        messages=messages,
        stream=bool(request.stream),
        controls=GenerationControls(options=options, think=think, keep_alive=request.keep_alive),
        tools=tools,
        tool_choice=choice,
        format=fmt,
        stop_sequences=tuple(request.stop_sequences or ()),
    )
    response_options = MessagesOptions(
        thinking_display=display,
        stop_sequences=chat.stop_sequences,
        disable_parallel_tool_use=no_parallel,
        applied_edits=applied,
        original_input_tokens=original,
        dropped=Dropped(tools=dropped_tools, fields=dropped_fields),
    )
    return chat, response_options


def _check_fields(body: Mapping[str, Any], leniency: Leniency) -> tuple[str, ...]:
    """Refuse what the gateway cannot honour, or (UNSUPPORTED_FIELDS=drop) name it to be dropped."""
    known = ANTHROPIC_FIELDS | TOP_LEVEL_OLLAMA_OPTIONS | IGNORED_FIELDS.keys()
    refused = [k for k in body if k in REFUSED_FIELDS]
    unknown = sorted(k for k in body if k not in known and k not in REFUSED_FIELDS)
    if leniency.unsupported_fields == "drop":
        return tuple(refused + unknown)
    for name in refused:
        raise InvalidRequestError(f"{name}: not supported ({REFUSED_FIELDS[name]})", param=name)
    if unknown:
        raise InvalidRequestError(f"unknown field(s): {', '.join(unknown)}", param=unknown[0])
    return ()


def _options(request: MessagesRequest, top_options: Mapping[str, Any]) -> dict[str, Any]:
    anthropic = {
        name: value
        for name, value in (("temperature", request.temperature), ("top_p", request.top_p), ("top_k", request.top_k))
        if value is not None
    }
    options = merge_options({**anthropic, **top_options}, request.options)
    # An explicit Ollama num_predict (for example -1, unlimited) is a deliberate override of max_tokens.
    if "num_predict" not in options and request.max_tokens is not None:
        options["num_predict"] = request.max_tokens
    return options


def _system(request: MessagesRequest) -> list[Message]:
    if request.system is None:
        return []
    if isinstance(request.system, str):
        text = request.system
    else:
        text = "\n\n".join(b.text for b in request.system if not b.text.startswith(BILLING_HEADER_PREFIX))
    return [Message(role="system", parts=(TextPart(text),))] if text else []


# --- conversation -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    """Blocks gathered for the message being built."""

    parts: list[Part] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    rank: int = -1

    def empty(self) -> bool:
        return not (self.parts or self.thinking or self.calls)


def _conversation(turns: Sequence[InputMessage]) -> tuple[Message, ...]:
    out: list[Message] = []
    tool_names: dict[str, str] = {}
    for i, turn in enumerate(turns):
        blocks = [TextBlock(type="text", text=turn.content)] if isinstance(turn.content, str) else turn.content
        if turn.role == "user":
            _user_turn(blocks, f"messages.{i}", tool_names, out)
        elif turn.role == "system":
            out.append(_system_turn(blocks, f"messages.{i}"))
        else:
            _assistant_turn(blocks, f"messages.{i}", tool_names, out)
    return tuple(out)


def _system_turn(blocks: list[Any], where: str) -> Message:
    for j, block in enumerate(blocks):
        if not isinstance(block, TextBlock):
            at = f"{where}.content.{j}"
            raise InvalidRequestError(f"{at}: system messages may hold only text blocks, not {block.type}", param=at)
    return Message(role="system", parts=(TextPart("\n\n".join(b.text for b in blocks)),))


def _user_turn(blocks: list[Any], where: str, tool_names: Mapping[str, str], out: list[Message]) -> None:
    parts: list[Part] = []
    for j, block in enumerate(blocks):
        at = f"{where}.content.{j}"
        match block:
            case TextBlock() | ImageBlock():
                parts.append(_part(block, at))
            case ToolResultBlock():
                if parts:
                    out.append(Message(role="user", parts=tuple(parts)))
                    parts = []
                out.append(_tool_message(block, at, tool_names))
            case _:
                raise InvalidRequestError(f"{at}: {block.type} blocks are only valid in assistant turns", param=at)
    if parts or not blocks:
        out.append(Message(role="user", parts=tuple(parts)))


def _assistant_turn(blocks: list[Any], where: str, tool_names: dict[str, str], out: list[Message]) -> None:
    pending = _Pending()
    produced = False
    for j, block in enumerate(blocks):
        at = f"{where}.content.{j}"
        if isinstance(block, RedactedThinkingBlock) or (isinstance(block, ThinkingBlock) and not block.thinking):
            continue
        if isinstance(block, ToolResultBlock):
            raise InvalidRequestError(f"{at}: tool_result blocks are only valid in user turns", param=at)
        rank = _RENDER_RANK[block.type]
        # Thinking never merges into thinking already gathered: each run stays its own message.
        if rank < pending.rank or (rank == 0 and pending.thinking):
            out.append(_assistant(pending))
            produced = True
            pending = _Pending()
        pending.rank = rank
        match block:
            case ThinkingBlock(thinking=text):
                pending.thinking.append(text)
            case ToolUseBlock():
                pending.calls.append(
                    ToolCall(id=block.id, name=block.name, arguments=dict(block.input), index=len(pending.calls))
                )
                tool_names[block.id] = block.name
            case _:
                pending.parts.append(_part(block, at))
    if not pending.empty() or not produced:
        out.append(_assistant(pending))


def _assistant(pending: _Pending) -> Message:
    return Message(
        role="assistant",
        parts=tuple(pending.parts),
        thinking="".join(pending.thinking) or None,
        tool_calls=tuple(pending.calls),
    )


def _tool_message(block: ToolResultBlock, at: str, tool_names: Mapping[str, str]) -> Message:
    name = tool_names.get(block.tool_use_id)
    if name is None:
        raise InvalidRequestError(
            f"{at}.tool_use_id: no earlier tool_use block has id {block.tool_use_id!r}", param=f"{at}.tool_use_id"
        )
    content = block.content
    if content is None:
        parts: tuple[Part, ...] = ()
    elif isinstance(content, str):
        parts = (TextPart(content),)
    else:
        parts = tuple(_result_part(b, f"{at}.content.{k}") for k, b in enumerate(content))
    return Message(
        role="tool",
        parts=parts,
        tool_name=name,
        tool_call_id=block.tool_use_id,
        is_error=bool(block.is_error),
    )


def _result_part(block: TextBlock | ImageBlock | ToolReferenceBlock, at: str) -> Part:
    if isinstance(block, ToolReferenceBlock):
        # Deferred tools (defer_loading) are sent to Ollama from the start; the reference says the tool is there.
        return TextPart(f"Tool {block.tool_name!r} is available.")
    return _part(block, at)


def _part(block: TextBlock | ImageBlock, at: str) -> Part:
    if isinstance(block, TextBlock):
        return TextPart(block.text)
    source = block.source
    if isinstance(source, Base64ImageSource):
        if not source.data:
            raise InvalidRequestError(f"{at}.source.data: empty image data", param=f"{at}.source.data")
        return ImagePart(data=source.data, media_type=source.media_type)
    parsed = urlsplit(source.url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidRequestError(f"{at}.source.url: only http and https image URLs are supported", param=at)
    return ImagePart(url=source.url)
