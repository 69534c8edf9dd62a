"""Core events → Anthropic Messages server-sent events. Pure.

Order (per the streaming spec): `message_start`; for each block `content_block_start`, its deltas and
`content_block_stop`; then `message_delta` (stop_reason, stop_sequence, usage) and `message_stop`.
Blocks never overlap and their indices count up from 0. A thinking block ends with one `signature_delta`
(the signature is computed from the whole thinking text). A tool call arrives whole from Ollama, so its
block carries `input: {}` at start and the complete JSON in one `input_json_delta`. Log probabilities have
no Anthropic form and are never requested by this surface, so `LogprobsDelta` produces nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ollama_gateway.core.events import (
    Event,
    Finished,
    LogprobsDelta,
    TextDelta,
    ThinkingDelta,
    ToolCallEvent,
)
from ollama_gateway.errors import GatewayError
from ollama_gateway.protocols.anthropic.encode import (
    SignatureFor,
    ToolIdFor,
    context_management,
    stop_reason,
    thinking_signature,
    tool_ids_for,
    tool_input_json,
    tool_use_block,
)
from ollama_gateway.protocols.anthropic.errors import error_object
from ollama_gateway.protocols.anthropic.schemas import MessagesOptions
from ollama_gateway.protocols.framing import sse_json

if TYPE_CHECKING:
    from ollama_gateway.protocols.base import StreamEncoder

# What message_start reports as output so far; the spec's examples (and the API) start at 1.
START_OUTPUT_TOKENS = 1


class MessagesStreamEncoder:
    """Streams one Messages response as Anthropic SSE frames (a `protocols.base.StreamEncoder`)."""

    media_type = "text/event-stream"

    def __init__(
        self,
        *,
        message_id: str,
        model: str,
        options: MessagesOptions,
        input_tokens_estimate: int,
        signature_for: SignatureFor = thinking_signature,
        tool_id_for: ToolIdFor | None = None,
    ) -> None:
        self._message_id = message_id
        self._model = model
        self._options = options
        self._input_estimate = input_tokens_estimate
        self._signature_for = signature_for
        self._tool_id_for = tool_id_for or tool_ids_for(message_id)
        self._index = -1
        self._open: Literal["thinking", "text"] | None = None
        self._thinking: list[str] = []
        self._called_tools = False

    def on_start(self) -> bytes:
        """The `message_start` event with the empty message skeleton."""
        message: dict[str, Any] = {
            "id": self._message_id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self._input_estimate, "output_tokens": START_OUTPUT_TOKENS},
        }
        return _event({"type": "message_start", "message": message})

    def on_event(self, event: Event) -> bytes:
        """The frames for one core event."""
        match event:
            case ThinkingDelta(text=text):
                return self._thinking_delta(text)
            case TextDelta(text=text):
                return self._text_delta(text)
            case ToolCallEvent(call=call):
                self._called_tools = True
                out = self._close()
                out += self._start_block(tool_use_block(call, self._tool_id_for) | {"input": {}})
                out += self._delta({"type": "input_json_delta", "partial_json": tool_input_json(call)})
                return out + self._stop_block()
            case LogprobsDelta():
                return b""
            case Finished():
                return self._finish(event)

    def on_error(self, error: GatewayError) -> bytes:
        """An `error` event; the Anthropic SDK raises an APIStatusError when it reads one."""
        return sse_json(error_object(error), "error")

    def on_end(self) -> bytes:
        """Nothing: `message_stop` already ended the stream."""
        return b""

    def on_idle(self) -> bytes:
        """A `ping` event."""
        return sse_json({"type": "ping"}, "ping")

    def _thinking_delta(self, text: str) -> bytes:
        if not text:
            return b""
        out = b""
        if self._open != "thinking":
            out += self._close()
            out += self._start_block({"type": "thinking", "thinking": "", "signature": ""})
            self._open = "thinking"
        self._thinking.append(text)
        if self._options.thinking_display == "summarized":
            out += self._delta({"type": "thinking_delta", "thinking": text})
        return out

    def _text_delta(self, text: str) -> bytes:
        if not text:
            return b""
        out = b""
        if self._open != "text":
            out += self._close()
            out += self._start_block({"type": "text", "text": ""})
            self._open = "text"
        return out + self._delta({"type": "text_delta", "text": text})

    def _finish(self, event: Finished) -> bytes:
        out = self._close()
        reason = stop_reason(event.reason, stop_sequence=event.stop_sequence, called_tools=self._called_tools)
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": event.stop_sequence},
            "usage": {"input_tokens": event.usage.prompt_tokens, "output_tokens": event.usage.completion_tokens},
        } | context_management(self._options)
        return out + _event(delta) + _event({"type": "message_stop"})

    def _start_block(self, block: dict[str, Any]) -> bytes:
        self._index += 1
        return _event({"type": "content_block_start", "index": self._index, "content_block": block})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return _event({"type": "content_block_delta", "index": self._index, "delta": delta})

    def _stop_block(self) -> bytes:
        return _event({"type": "content_block_stop", "index": self._index})

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        out = b""
        if self._open == "thinking":
            signature = self._signature_for("".join(self._thinking))
            self._thinking = []
            out += self._delta({"type": "signature_delta", "signature": signature})
        self._open = None
        return out + self._stop_block()


def _event(obj: dict[str, Any]) -> bytes:
    return sse_json(obj, obj["type"])


if TYPE_CHECKING:

    def _conforms(encoder: MessagesStreamEncoder) -> StreamEncoder:
        return encoder  # mypy checks the class against the StreamEncoder protocol here
