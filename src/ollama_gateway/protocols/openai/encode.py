"""Core → OpenAI wire: one import point for the encoders, which live in a module per endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ollama_gateway.protocols.openai.encode_chat import ChatStreamEncoder, encode_chat_completion
from ollama_gateway.protocols.openai.encode_completions import CompletionStreamEncoder, encode_completion
from ollama_gateway.protocols.openai.encode_embeddings import encode_embeddings, encode_model, encode_model_list

if TYPE_CHECKING:
    from ollama_gateway.protocols.base import StreamEncoder

    # mypy proves both encoders fulfil the contract web.streaming drives.
    _chat: StreamEncoder = ChatStreamEncoder("", 0, "")
    _completion: StreamEncoder = CompletionStreamEncoder("", 0, "")

__all__ = [
    "ChatStreamEncoder",
    "CompletionStreamEncoder",
    "encode_chat_completion",
    "encode_completion",
    "encode_embeddings",
    "encode_model",
    "encode_model_list",
]
