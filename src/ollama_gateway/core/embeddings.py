"""Embedding results in neutral form."""

from __future__ import annotations

from dataclasses import dataclass

from ollama_gateway.core.usage import Usage


@dataclass(frozen=True, slots=True)
class EmbedResult:
    """Vectors in input order, with the prompt token count."""

    vectors: tuple[tuple[float, ...], ...]
    usage: Usage
