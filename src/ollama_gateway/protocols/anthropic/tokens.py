"""`/v1/messages/count_tokens`: a request validated like a Messages request, measured with the estimate in
`estimate.py` (the same one fills `message_start.usage.input_tokens`)."""

from __future__ import annotations

from typing import Any

from ollama_gateway.core.leniency import STRICT, Leniency
from ollama_gateway.protocols.anthropic.decode import decode_count_tokens
from ollama_gateway.protocols.anthropic.estimate import (
    CHARS_PER_TOKEN,
    TOKENS_PER_IMAGE,
    TOKENS_PER_MESSAGE,
    estimate_input_tokens,
)

__all__ = ["CHARS_PER_TOKEN", "TOKENS_PER_IMAGE", "TOKENS_PER_MESSAGE", "count_tokens", "estimate_input_tokens"]


def count_tokens(body: Any, leniency: Leniency = STRICT) -> dict[str, Any]:
    """The count_tokens body: the estimate after context edits, and before them when edits were asked for."""
    request, options = decode_count_tokens(body, leniency)
    counted: dict[str, Any] = {"input_tokens": estimate_input_tokens(request)}
    if options.original_input_tokens is not None:
        counted["context_management"] = {"original_input_tokens": options.original_input_tokens}
    return counted
