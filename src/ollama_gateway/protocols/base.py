"""The contract every streaming response encoder fulfils; `web.streaming` drives it."""

from __future__ import annotations

from typing import Protocol

from ollama_gateway.core.events import Event
from ollama_gateway.errors import GatewayError


class StreamEncoder(Protocol):
    """Turns core events into wire frames (bytes); every hook may return b"" when it has nothing to send."""

    media_type: str

    def on_start(self) -> bytes:
        """Frames sent before the first event (for example Anthropic's message_start)."""
        ...

    def on_event(self, event: Event) -> bytes:
        """Frames for one event; `Finished` is always the last event of a successful stream."""
        ...

    def on_error(self, error: GatewayError) -> bytes:
        """A terminal error frame the protocol's SDK raises on; nothing is sent after it."""
        ...

    def on_end(self) -> bytes:
        """Frames after `Finished` (for example OpenAI's `data: [DONE]`)."""
        ...

    def on_idle(self) -> bytes:
        """A keep-alive frame sent while the model is silent (Anthropic `ping`, an SSE comment)."""
        ...
