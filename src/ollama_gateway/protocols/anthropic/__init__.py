"""The Anthropic Messages surface: request decoding, response encoding, errors and token estimates. Pure."""

from ollama_gateway.protocols.anthropic.decode import decode_count_tokens, decode_messages
from ollama_gateway.protocols.anthropic.encode import encode_message, thinking_signature, tool_ids_for
from ollama_gateway.protocols.anthropic.errors import error_body, error_headers
from ollama_gateway.protocols.anthropic.schemas import MessagesOptions
from ollama_gateway.protocols.anthropic.stream import MessagesStreamEncoder
from ollama_gateway.protocols.anthropic.tokens import count_tokens, estimate_input_tokens

__all__ = [
    "MessagesOptions",
    "MessagesStreamEncoder",
    "count_tokens",
    "decode_count_tokens",
    "decode_messages",
    "encode_message",
    "error_body",
    "error_headers",
    "estimate_input_tokens",
    "thinking_signature",
    "tool_ids_for",
]
