"""Core events → OpenAI chat completions: SSE chunks, or one `chat.completion` from the folded result."""

from __future__ import annotations

from typing import Any

from ollama_gateway.core.events import (
    Event,
    Finished,
    LogprobsDelta,
    TextDelta,
    ThinkingDelta,
    ToolCallEvent,
)
from ollama_gateway.core.results import ChatResult
from ollama_gateway.protocols.framing import sse_json
from ollama_gateway.protocols.openai.shapes import (
    SSE_MEDIA_TYPE,
    SseTail,
    chat_logprobs,
    finish_reason,
    tool_call_body,
    usage_body,
)


class ChatStreamEncoder(SseTail):
    """Streams `chat.completion.chunk` frames; one id and one `created` for every chunk."""

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
    ) -> None:
        self._id = completion_id
        self._created = created
        self._model = model
        self._include_usage = include_usage
        self._exclude_reasoning = exclude_reasoning
        self._logprobs = logprobs
        self._calls = 0

    def _chunk(
        self, delta: dict[str, Any], *, finish: str | None = None, logprobs: dict[str, Any] | None = None
    ) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        return sse_json(
            {
                "id": self._id,
                "object": "chat.completion.chunk",
                "created": self._created,
                "model": self._model,
                "choices": [choice],
            }
        )

    def on_start(self) -> bytes:
        """The role chunk every OpenAI stream begins with."""
        return self._chunk({"role": "assistant", "content": ""})

    def on_event(self, event: Event) -> bytes:
        """One chunk per delta; `Finished` gives the finish chunk and, when asked, the usage chunk."""
        match event:
            case TextDelta(text=text):
                return self._chunk({"content": text}) if text else b""
            case ThinkingDelta(text=text):
                if self._exclude_reasoning or not text:
                    return b""
                return self._chunk({"reasoning_content": text})
            case ToolCallEvent(call=call):
                position = self._calls
                self._calls += 1
                body = {"index": position, **tool_call_body(call, self._id, position)}
                return self._chunk({"tool_calls": [body]})
            case LogprobsDelta(entries=entries):
                if not self._logprobs or not entries:
                    return b""
                return self._chunk({}, logprobs=chat_logprobs(entries))
            case Finished(reason=reason, usage=usage):
                frames = self._chunk({}, finish=finish_reason(reason, self._calls > 0))
                if self._include_usage:
                    frames += sse_json(
                        {
                            "id": self._id,
                            "object": "chat.completion.chunk",
                            "created": self._created,
                            "model": self._model,
                            "choices": [],
                            "usage": usage_body(usage),
                        }
                    )
                return frames


def encode_chat_completion(
    result: ChatResult,
    *,
    completion_id: str,
    created: int,
    model: str,
    exclude_reasoning: bool = False,
    logprobs: bool = False,
) -> dict[str, Any]:
    """One `chat.completion` object built from the folded event stream."""
    message: dict[str, Any] = {"role": "assistant", "content": result.text or None}
    if result.text == "" and not result.tool_calls:
        message["content"] = ""
    if result.thinking and not exclude_reasoning:
        message["reasoning_content"] = result.thinking
    if result.tool_calls:
        message["tool_calls"] = [
            tool_call_body(call, completion_id, position) for position, call in enumerate(result.tool_calls)
        ]
    choice: dict[str, Any] = {
        "index": 0,
        "message": message,
        "logprobs": chat_logprobs(result.logprobs) if logprobs else None,
        "finish_reason": finish_reason(result.reason, bool(result.tool_calls)),
    }
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage_body(result.usage),
    }
