"""Ollama native response chunks → core stream events. Pure; errors inside a stream are raised."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.core.events import (
    Event,
    Finished,
    LogprobsDelta,
    StopReason,
    TextDelta,
    ThinkingDelta,
    TokenLogprob,
    ToolCallEvent,
)
from ollama_gateway.core.messages import ToolCall
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import UpstreamStreamError

# Ollama `done_reason` → core stop reason. `load`/`unload` only answer empty requests.
DONE_REASONS: Mapping[str, StopReason] = {
    "stop": "stop",
    "length": "length",
    "load": "stop",
    "unload": "stop",
    "": "stop",
}


class ChunkDecoder:
    """Decodes /api/chat (or /api/generate with `generate=True`) objects, one at a time, into events."""

    __slots__ = ("_generate", "_make_id", "_next_index", "_saw_tool_call")

    def __init__(self, make_tool_call_id: Callable[[], str], *, generate: bool = False) -> None:
        self._make_id = make_tool_call_id
        self._generate = generate
        self._next_index = 0
        self._saw_tool_call = False

    def decode(self, obj: Any) -> list[Event]:
        """Events for one native object (a stream chunk or a whole non-streamed response)."""
        if not isinstance(obj, dict):
            raise UpstreamStreamError("unexpected upstream chunk: not a JSON object")
        error = obj.get("error")
        if error is not None:
            raise UpstreamStreamError(str(error))
        events: list[Event] = []
        if self._generate:
            thinking, content, calls = obj.get("thinking"), obj.get("response"), obj.get("tool_calls")
        else:
            message = obj.get("message") or {}
            thinking, content, calls = message.get("thinking"), message.get("content"), message.get("tool_calls")
        if thinking:
            events.append(ThinkingDelta(str(thinking)))
        if content:
            events.append(TextDelta(str(content)))
        for raw_call in calls or ():
            events.append(ToolCallEvent(self._tool_call(raw_call)))
        logprobs = obj.get("logprobs")
        if logprobs:
            events.append(LogprobsDelta(tuple(parse_logprob(e) for e in logprobs)))
        if obj.get("done"):
            events.append(Finished(self._reason(obj.get("done_reason") or ""), usage_of(obj)))
        return events

    def _tool_call(self, raw: Any) -> ToolCall:
        function = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise UpstreamStreamError("malformed tool call from upstream")
        arguments = function.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise UpstreamStreamError("tool call arguments from upstream are not an object")
        # Ollama numbers calls per chunk; clients need one index per call across the whole response.
        index = self._next_index
        self._next_index += 1
        self._saw_tool_call = True
        call_id = raw.get("id") or self._make_id()
        return ToolCall(id=str(call_id), name=function["name"], arguments=arguments, index=index)

    def _reason(self, done_reason: str) -> StopReason:
        reason = DONE_REASONS.get(done_reason, "stop")
        if reason == "stop" and self._saw_tool_call:
            return "tool_calls"
        return reason


def usage_of(obj: Mapping[str, Any]) -> Usage:
    """Token counts from a final native object (absent counts are zero)."""
    return Usage(int(obj.get("prompt_eval_count") or 0), int(obj.get("eval_count") or 0))


def parse_logprob(entry: Mapping[str, Any]) -> TokenLogprob:
    """One native logprob entry, with its alternatives."""
    raw_bytes = entry.get("bytes")
    return TokenLogprob(
        token=str(entry.get("token", "")),
        logprob=float(entry.get("logprob", 0.0)),
        bytes=tuple(raw_bytes) if raw_bytes is not None else None,
        top=tuple(parse_logprob(t) for t in entry.get("top_logprobs") or ()),
    )


def parse_embed_response(obj: Any) -> EmbedResult:
    """An /api/embed response → vectors and usage."""
    if not isinstance(obj, dict) or not isinstance(obj.get("embeddings"), list):
        raise UpstreamStreamError("unexpected /api/embed response")
    vectors = tuple(tuple(float(x) for x in vector) for vector in obj["embeddings"])
    return EmbedResult(vectors=vectors, usage=Usage(int(obj.get("prompt_eval_count") or 0), 0))
