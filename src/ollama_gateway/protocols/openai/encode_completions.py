"""Core events → OpenAI legacy text completions (`text_completion`), streamed or folded.

Text completions have no reasoning or tool-call fields; the gateway adds `reasoning_content` and
`tool_calls` (chat shape) to the choice as extensions rather than dropping them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from ollama_gateway.core.events import (
    Event,
    Finished,
    LogprobsDelta,
    StopReason,
    TextDelta,
    ThinkingDelta,
    ToolCallEvent,
)
from ollama_gateway.core.results import ChatResult
from ollama_gateway.protocols.framing import sse_json
from ollama_gateway.protocols.openai.shapes import (
    SSE_MEDIA_TYPE,
    SseTail,
    completion_logprobs,
    tool_call_body,
    usage_body,
)

COMPLETION_FINISH_REASONS: Final[Mapping[StopReason, Literal["stop", "length"]]] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "stop",
}
"""Core stop reason → text completion `finish_reason`, which has no `tool_calls` value."""


def _finish(reason: StopReason | None) -> Literal["stop", "length"]:
    return COMPLETION_FINISH_REASONS[reason] if reason is not None else "stop"


class CompletionStreamEncoder(SseTail):
    """Streams `text_completion` chunks: text deltas, a final chunk with `finish_reason`, usage when asked."""

    media_type: str = SSE_MEDIA_TYPE

    def __init__(
        self,
        completion_id: str,
        created: int,
        model: str,
        *,
        include_usage: bool = False,
        exclude_reasoning: bool = False,
        logprobs: bool = False,
        echo: str | None = None,
    ) -> None:
        self._id = completion_id
        self._created = created
        self._model = model
        self._include_usage = include_usage
        self._exclude_reasoning = exclude_reasoning
        self._logprobs = logprobs
        self._echo = echo
        self._offset = len(echo) if echo else 0
        self._calls = 0

    def _chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        body = {
            "id": self._id,
            "object": "text_completion",
            "created": self._created,
            "model": self._model,
            "choices": choices,
            **extra,
        }
        return sse_json(body)

    def _choice(self, text: str, **fields: Any) -> bytes:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": None, **fields}
        return self._chunk([choice])

    def on_start(self) -> bytes:
        """The echoed prompt, when asked; otherwise nothing."""
        return self._choice(self._echo) if self._echo else b""

    def on_event(self, event: Event) -> bytes:
        """One chunk per delta; `Finished` gives the finish chunk and, when asked, the usage chunk."""
        match event:
            case TextDelta(text=text):
                return self._choice(text) if text else b""
            case ThinkingDelta(text=text):
                if self._exclude_reasoning or not text:
                    return b""
                return self._choice("", reasoning_content=text)
            case ToolCallEvent(call=call):
                position = self._calls
                self._calls += 1
                return self._choice("", tool_calls=[{"index": position, **tool_call_body(call, self._id, position)}])
            case LogprobsDelta(entries=entries):
                if not self._logprobs or not entries:
                    return b""
                logprobs = completion_logprobs(entries, self._offset)
                self._offset += sum(len(entry.token) for entry in entries)
                return self._choice("", logprobs=logprobs)
            case Finished(reason=reason, usage=usage):
                frames = self._choice("", finish_reason=_finish(reason))
                if self._include_usage:
                    frames += self._chunk([], usage=usage_body(usage))
                return frames


def encode_completion(
    result: ChatResult,
    *,
    completion_id: str,
    created: int,
    model: str,
    exclude_reasoning: bool = False,
    logprobs: bool = False,
    echo: str | None = None,
) -> dict[str, Any]:
    """One `text_completion` object built from the folded event stream."""
    prefix = echo or ""
    choice: dict[str, Any] = {
        "index": 0,
        "text": prefix + result.text,
        "logprobs": completion_logprobs(result.logprobs, len(prefix)) if logprobs else None,
        "finish_reason": _finish(result.reason),
    }
    if result.thinking and not exclude_reasoning:
        choice["reasoning_content"] = result.thinking
    if result.tool_calls:
        choice["tool_calls"] = [
            tool_call_body(call, completion_id, position) for position, call in enumerate(result.tool_calls)
        ]
    return {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage_body(result.usage),
    }
