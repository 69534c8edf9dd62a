"""Wire pieces the OpenAI encoders share: finish reasons, usage, tool calls, logprobs, the error frame."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

import orjson

from ollama_gateway.core.events import StopReason, TokenLogprob
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import GatewayError
from ollama_gateway.protocols.framing import SSE_COMMENT_PING, sse_json
from ollama_gateway.protocols.openai.errors import error_body

FinishReason = Literal["stop", "length", "tool_calls"]

FINISH_REASONS: Final[Mapping[StopReason, FinishReason]] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
}
"""Core stop reason → OpenAI `finish_reason` (a plain stop after tool calls becomes `tool_calls`)."""

DONE_FRAME: Final[bytes] = b"data: [DONE]\n\n"
SSE_MEDIA_TYPE: Final[str] = "text/event-stream"


def finish_reason(reason: StopReason | None, called_tools: bool) -> FinishReason:
    """The OpenAI finish reason; `length` wins over tool calls because the output was cut."""
    mapped = FINISH_REASONS[reason] if reason is not None else "stop"
    if mapped == "stop" and called_tools:
        return "tool_calls"
    return mapped


def usage_body(usage: Usage, *, completion: bool = True) -> dict[str, int]:
    """OpenAI `usage`; embeddings have no completion tokens."""
    if not completion:
        return {"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.prompt_tokens}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def tool_call_id(call: ToolCall, completion_id: str, position: int) -> str:
    """The call's own id, or a deterministic one when Ollama sent none (clients need an id to answer)."""
    return call.id or f"call_{completion_id}_{position}"


def tool_call_body(call: ToolCall, completion_id: str, position: int) -> dict[str, Any]:
    """One OpenAI tool call; `arguments` is the JSON text of the object."""
    return {
        "id": tool_call_id(call, completion_id, position),
        "type": "function",
        "function": {"name": call.name, "arguments": orjson.dumps(call.arguments).decode()},
    }


def chat_logprobs(entries: Iterable[TokenLogprob]) -> dict[str, Any]:
    """Chat `logprobs`: `{"content": [...], "refusal": null}`."""
    return {"content": [_token(entry, with_top=True) for entry in entries], "refusal": None}


def _token(entry: TokenLogprob, *, with_top: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": entry.token,
        "logprob": entry.logprob,
        "bytes": list(entry.bytes) if entry.bytes is not None else None,
    }
    if with_top:
        body["top_logprobs"] = [_token(alt, with_top=False) for alt in entry.top]
    return body


def completion_logprobs(entries: Iterable[TokenLogprob], offset: int) -> dict[str, Any]:
    """Legacy completions `logprobs`: parallel arrays, `text_offset` counted from `offset`."""
    tokens: list[str] = []
    token_logprobs: list[float] = []
    top_logprobs: list[dict[str, float]] = []
    text_offset: list[int] = []
    for entry in entries:
        tokens.append(entry.token)
        token_logprobs.append(entry.logprob)
        top_logprobs.append({alt.token: alt.logprob for alt in entry.top})
        text_offset.append(offset)
        offset += len(entry.token)
    return {
        "tokens": tokens,
        "token_logprobs": token_logprobs,
        "top_logprobs": top_logprobs,
        "text_offset": text_offset,
    }


def error_frame(err: GatewayError) -> bytes:
    """`data: {"error": {...}}`: the openai SDK raises APIError when a stream frame carries `error`."""
    _, body = error_body(err)
    return sse_json(body)


class SseTail:
    """The end every OpenAI SSE stream shares: `data: [DONE]` unless an error frame was sent, and pings."""

    _failed = False

    def on_error(self, error: GatewayError) -> bytes:
        """An `{"error": ...}` frame, which the openai SDK raises as APIError; nothing follows it."""
        self._failed = True
        return error_frame(error)

    def on_end(self) -> bytes:
        """`data: [DONE]`, unless the stream failed."""
        return b"" if self._failed else DONE_FRAME

    def on_idle(self) -> bytes:
        """An SSE comment, which every client skips."""
        return SSE_COMMENT_PING
