"""POST /api/embed and the legacy POST /api/embeddings, with deterministic hash-derived vectors."""

from __future__ import annotations

import hashlib
import math
import struct
import time
from typing import Any

from aiohttp import web

from .catalog import parse_name
from .decoding import decode_body
from .errors import (
    INPUT_TOO_LONG,
    INVALID_INPUT_TYPE,
    MODEL_REQUIRED,
    OllamaError,
    model_not_found,
    model_not_found_pull_first,
)
from .generation import LOAD_DURATION_NS
from .replies import word_count
from .requests import EMBED, EMBEDDINGS, keep_alive_seconds
from .routes_generation import STATE_KEY
from .wire import json_response


def raw_vector(model_key: str, text: str, length: int) -> list[float]:
    """A deterministic, un-normalised vector in [-1, 1) derived from a hash of model and text."""
    values: list[float] = []
    block = 0
    while len(values) < length:
        digest = hashlib.sha256(f"{model_key}\0{text}\0{block}".encode()).digest()
        values.extend(int.from_bytes(digest[i : i + 4], "big") / 2**31 - 1.0 for i in range(0, 32, 4))
        block += 1
    return values[:length]


def normalise(vector: list[float]) -> list[float]:
    """Scale to unit L2 norm (a zero vector stays as it is)."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else list(vector)


def as_float32(value: float) -> float:
    """The shortest decimal that round-trips through float32, as Go prints a float32."""
    packed = struct.pack("<f", value)
    single = float(struct.unpack("<f", packed)[0])
    for digits in range(1, 10):
        candidate = float(f"{single:.{digits}g}")
        if struct.pack("<f", candidate) == packed:
            return candidate
    return single


def _inputs(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise OllamaError(400, INVALID_INPUT_TYPE)


async def handle_embed(request: web.Request) -> web.Response:
    """POST /api/embed: L2-normalised vectors; `dimensions` truncates then renormalises."""
    state = request.app[STATE_KEY]
    started = time.time_ns()
    body = decode_body(await request.read(), EMBED)
    inputs = _inputs(body.get("input"))
    sent = body.get("model") or ""
    name = parse_name(sent)
    if name is None:
        raise OllamaError(404, model_not_found(sent))
    entry = state.models.get(name)
    if entry is None:
        raise OllamaError(404, model_not_found_pull_first(sent))
    state.schedule(entry, sent, [], "embed", body)
    if not inputs:
        return json_response({"model": sent, "embeddings": []})
    truncate = body.get("truncate") is not False
    tokens = [max(1, word_count(text)) for text in inputs]
    if not truncate and max(tokens) > entry.context_length:
        raise OllamaError(400, INPUT_TOO_LONG)
    dimensions = body.get("dimensions") or 0
    vectors = []
    for text in inputs:
        vector = normalise(raw_vector(entry.name.key, text, entry.embedding_length or 16))
        if 0 < dimensions < len(vector):
            vector = normalise(vector[:dimensions])
        vectors.append([as_float32(x) for x in vector])
    if keep_alive_zero(body):
        state.unload(entry)
    return json_response(
        {
            "model": sent,
            "embeddings": vectors,
            "total_duration": max(1, time.time_ns() - started) + LOAD_DURATION_NS,
            "load_duration": LOAD_DURATION_NS,
            "prompt_eval_count": sum(min(t, entry.context_length) for t in tokens),
        }
    )


async def handle_embeddings(request: web.Request) -> web.Response:
    """POST /api/embeddings (legacy): one float64 vector, not normalised."""
    state = request.app[STATE_KEY]
    body = decode_body(await request.read(), EMBEDDINGS)
    sent = body.get("model") or ""
    name = parse_name(sent)
    if name is None:
        raise OllamaError(400, MODEL_REQUIRED)
    entry = state.models.get(name)
    if entry is None:
        raise OllamaError(404, model_not_found_pull_first(sent))
    state.schedule(entry, sent, [], "embed", body)
    prompt = body.get("prompt") or ""
    vector = raw_vector(entry.name.key, prompt, entry.embedding_length or 16) if prompt else []
    if keep_alive_zero(body):
        state.unload(entry)
    return json_response({"embedding": vector})


def keep_alive_zero(body: dict[str, Any]) -> bool:
    """True when the request asks for the model to be unloaded afterwards."""
    return keep_alive_seconds(body) == 0
