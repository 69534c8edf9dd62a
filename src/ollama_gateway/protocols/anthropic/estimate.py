"""The gateway's input-token estimate (Ollama has no tokenizer endpoint that a gateway can call cheaply):

    input_tokens = ceil(chars / 4) + 4 * messages + 256 * images

where `chars` counts the system prompt, every message's text and thinking, each tool call's name and
arguments (as JSON bytes), and each tool's name, description and schema (as JSON bytes); `messages`
counts the core messages after decoding (system and tool messages included). Pure.
"""

from __future__ import annotations

import math
from typing import Final

import orjson

from ollama_gateway.core.requests import ChatRequest

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
