"""Core embedding results and model listings → OpenAI response bodies."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.protocols.openai.shapes import usage_body


def encode_embeddings(
    result: EmbedResult, model: str, encoding_format: Literal["float", "base64"] = "float"
) -> dict[str, Any]:
    """`{"object": "list", "data": [...], "model", "usage"}`; base64 is little-endian float32, as the SDK decodes."""
    data = [
        {"object": "embedding", "index": index, "embedding": _vector(vector, encoding_format)}
        for index, vector in enumerate(result.vectors)
    ]
    return {"object": "list", "data": data, "model": model, "usage": usage_body(result.usage, completion=False)}


def _vector(vector: tuple[float, ...], encoding_format: Literal["float", "base64"]) -> list[float] | str:
    if encoding_format == "float":
        return list(vector)
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def encode_model(model_id: str, created: int, owned_by: str) -> dict[str, Any]:
    """One `model` object."""
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


def encode_model_list(models: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`{"object": "list", "data": [...]}` from `encode_model` objects; `data` is `[]`, never null, when empty."""
    return {"object": "list", "data": [dict(model) for model in models]}
