"""An input-token estimate for `/v1/messages/count_tokens` and for `message_start` before Ollama counts.

Ollama has no tokenizer endpoint that a gateway can call cheaply, so the count is an estimate:

    input_tokens = ceil(chars / 4) + 4 * messages + 256 * images

where `chars` counts the system prompt, every message's text and thinking, each tool call's name and
arguments (as JSON bytes), and each tool's name, description and schema (as JSON bytes); `messages`
counts the core messages after decoding (system and tool messages included).
"""

from __future__ import annotations

import math
from typing import Any, Final

import orjson

from ollama_gateway.core.requests import ChatRequest
from ollama_gateway.protocols.anthropic.decode import decode_count_tokens

CHARS_PER_TOKEN: Final[int] = 4
TOKENS_PER_MESSAGE: Final[int] = 4
TOKENS_PER_IMAGE: Final[int] = 256


def estimate_input_tokens(request: ChatRequest) -> int:
    """The estimate described in the module docstring."""
    chars = 0
    images = 0
    for message in request.messages:
        chars += len(message.text) + len(message.thinking or "")
        images += len(message.images)
        for call in message.tool_calls:
            chars += len(call.name) + len(orjson.dumps(call.arguments))
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description or "") + len(orjson.dumps(tool.parameters))
    return math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(request.messages) + TOKENS_PER_IMAGE * images


def count_tokens(body: Any) -> dict[str, int]:
    """The count_tokens response body for a request body, validated like a Messages request."""
    return {"input_tokens": estimate_input_tokens(decode_count_tokens(body))}
