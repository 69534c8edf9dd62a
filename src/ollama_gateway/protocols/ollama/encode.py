"""Core requests → Ollama native request bodies (/api/chat, /api/generate, /api/embed). Pure."""

from __future__ import annotations

from typing import Any

from ollama_gateway.core.messages import Message, ToolCall, ToolSpec
from ollama_gateway.core.requests import ChatRequest, EmbedRequest, GenerateRequest, GenerationControls
from ollama_gateway.errors import InvalidRequestError

# Gateway-only controls never reach Ollama's `options`.
GATEWAY_ONLY_KEYS: frozenset[str] = frozenset(
    {"exclude_reasoning", "request_timeout", "timeout_ms", "think", "keep_alive"}
)


def chat_body(request: ChatRequest) -> dict[str, Any]:
    """The /api/chat body for a chat request; `stream` is always explicit."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [message_body(m) for m in request.messages],
        "stream": request.stream,
    }
    tools = _selected_tools(request)
    if tools:
        body["tools"] = [tool_body(t) for t in tools]
    _add_common(body, request.controls, request.format, request.logprobs, request.top_logprobs)
    return body


def generate_body(request: GenerateRequest) -> dict[str, Any]:
    """The /api/generate body for a completion request; `stream` is always explicit."""
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "stream": request.stream}
    if request.suffix is not None:
        body["suffix"] = request.suffix
    if request.system is not None:
        body["system"] = request.system
    if request.raw is not None:
        body["raw"] = request.raw
    if request.images:
        body["images"] = [_image_data(i.data) for i in request.images]
    _add_common(body, request.controls, request.format, request.logprobs, request.top_logprobs)
    return body


def embed_body(request: EmbedRequest) -> dict[str, Any]:
    """The /api/embed body for an embeddings request."""
    body: dict[str, Any] = {"model": request.model, "input": list(request.inputs)}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.truncate is not None:
        body["truncate"] = request.truncate
    options = ollama_options(request.controls)
    if options:
        body["options"] = options
    if request.controls.keep_alive is not None:
        body["keep_alive"] = request.controls.keep_alive
    return body


def message_body(message: Message) -> dict[str, Any]:
    """One native message; `content` is always present, as Ollama serialises it."""
    out: dict[str, Any] = {"role": message.role, "content": message.text}
    if message.thinking:
        out["thinking"] = message.thinking
    images = message.images
    if images:
        out["images"] = [_image_data(i.data) for i in images]
    if message.tool_calls:
        out["tool_calls"] = [tool_call_body(c) for c in message.tool_calls]
    if message.tool_name:
        out["tool_name"] = message.tool_name
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def tool_call_body(call: ToolCall) -> dict[str, Any]:
    """A native tool call: arguments stay a JSON object (Ollama rejects strings)."""
    return {"id": call.id, "function": {"index": call.index, "name": call.name, "arguments": call.arguments}}


def tool_body(tool: ToolSpec) -> dict[str, Any]:
    """A native function tool definition."""
    function: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
    if tool.description is not None:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def ollama_options(controls: GenerationControls) -> dict[str, Any]:
    """The `options` object: every option except the gateway's own keys."""
    return {k: v for k, v in controls.options.items() if k not in GATEWAY_ONLY_KEYS}


def _selected_tools(request: ChatRequest) -> tuple[ToolSpec, ...]:
    choice = request.tool_choice
    if choice is None or choice in ("auto", "required"):
        return request.tools
    if choice == "none":
        return ()
    named = tuple(t for t in request.tools if t.name == choice)
    if not named:
        raise InvalidRequestError(f"tool_choice names an unknown tool: {choice}", param="tool_choice")
    return named


def _add_common(
    body: dict[str, Any],
    controls: GenerationControls,
    fmt: Any,
    logprobs: bool | None,
    top_logprobs: int | None,
) -> None:
    options = ollama_options(controls)
    if options:
        body["options"] = options
    if controls.think is not None:
        body["think"] = controls.think
    if controls.keep_alive is not None:
        body["keep_alive"] = controls.keep_alive
    if fmt is not None:
        body["format"] = fmt
    if logprobs is not None:
        body["logprobs"] = logprobs
    if top_logprobs is not None:
        body["top_logprobs"] = top_logprobs


def _image_data(data: str | None) -> str:
    if data is None:
        # Image URLs are fetched and inlined by the web layer before encoding; reaching here is a bug upstream.
        raise InvalidRequestError("image URL was not resolved before sending upstream")
    return data
