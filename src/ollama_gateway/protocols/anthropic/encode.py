"""Core results → Anthropic Messages response bodies, plus what the stream encoder shares with it. Pure.

The non-streaming body is built only from a folded `ChatResult`, so it is the same generation the stream
describes. Block order follows Ollama's: thinking, then text, then tool calls.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import orjson

from ollama_gateway.core.events import StopReason
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.results import ChatResult
from ollama_gateway.protocols.anthropic.schemas import MessagesOptions

AnthropicStopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use"]

# Core stop reason → Anthropic stop_reason; a matched stop sequence and any tool call take precedence.
STOP_REASONS: Final[Mapping[StopReason, AnthropicStopReason]] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
}

SignatureFor = Callable[[str], str]
ToolIdFor = Callable[[ToolCall], str]

_SIGNATURE_SALT: Final[bytes] = b"ollama-gateway/thinking/v1\x00"


def thinking_signature(thinking: str) -> str:
    """A deterministic signature for a thinking block: base64 of a salted SHA-256 (never verified)."""
    return base64.b64encode(hashlib.sha256(_SIGNATURE_SALT + thinking.encode()).digest()).decode()


def tool_ids_for(message_id: str) -> ToolIdFor:
    """A deterministic `toolu_...` id for each call: from Ollama's id, else from the message id and index."""
    suffix = message_id.removeprefix("msg_")

    def tool_id_for(call: ToolCall) -> str:
        if call.id.startswith("toolu_"):
            return call.id
        if call.id:
            return "toolu_" + call.id.removeprefix("call_")
        return f"toolu_{suffix}_{call.index}"

    return tool_id_for


def stop_reason(reason: StopReason | None, *, stop_sequence: str | None, called_tools: bool) -> AnthropicStopReason:
    """The Anthropic stop_reason for how a generation ended."""
    if stop_sequence is not None:
        return "stop_sequence"
    if called_tools:
        return "tool_use"
    return STOP_REASONS[reason or "stop"]


def thinking_block(thinking: str, options: MessagesOptions, signature_for: SignatureFor) -> dict[str, Any]:
    """A complete thinking block; `display: omitted` keeps the signature but empties the text."""
    shown = thinking if options.thinking_display == "summarized" else ""
    return {"type": "thinking", "thinking": shown, "signature": signature_for(thinking)}


def tool_use_block(call: ToolCall, tool_id_for: ToolIdFor) -> dict[str, Any]:
    """A complete tool_use block."""
    return {"type": "tool_use", "id": tool_id_for(call), "name": call.name, "input": call.arguments}


def tool_input_json(call: ToolCall) -> str:
    """The tool input as compact JSON (key order kept), as sent in one input_json_delta."""
    return orjson.dumps(call.arguments).decode()


def encode_message(
    result: ChatResult,
    *,
    message_id: str,
    model: str,
    options: MessagesOptions,
    signature_for: SignatureFor = thinking_signature,
    tool_id_for: ToolIdFor | None = None,
) -> dict[str, Any]:
    """The non-streaming Messages response body for a folded generation."""
    ids = tool_id_for or tool_ids_for(message_id)
    content: list[dict[str, Any]] = []
    if result.thinking:
        content.append(thinking_block(result.thinking, options, signature_for))
    if result.text:
        content.append({"type": "text", "text": result.text})
    content.extend(tool_use_block(call, ids) for call in result.tool_calls)
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(
            result.reason, stop_sequence=result.stop_sequence, called_tools=bool(result.tool_calls)
        ),
        "stop_sequence": result.stop_sequence,
        "usage": {"input_tokens": result.usage.prompt_tokens, "output_tokens": result.usage.completion_tokens},
    } | context_management(options)


def context_management(options: MessagesOptions) -> dict[str, Any]:
    """`{"context_management": {"applied_edits": [...]}}` when the request asked for context editing, else `{}`."""
    if options.applied_edits is None:
        return {}
    return {"context_management": {"applied_edits": [dict(edit) for edit in options.applied_edits]}}
