"""Embeddings (float and base64, through the SDK), model listings, and error bodies/statuses."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai.types import CreateEmbeddingResponse, Model

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import (
    AuthenticationError,
    CancelledError,
    ConflictError,
    GatewayError,
    InternalError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QueueFullError,
    QueueTimeoutError,
    RateLimitError,
    UpstreamError,
    UpstreamOverloadedError,
    UpstreamStatusError,
    UpstreamStreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from ollama_gateway.protocols.openai.decode import decode_embeddings
from ollama_gateway.protocols.openai.encode import encode_embeddings, encode_model, encode_model_list
from ollama_gateway.protocols.openai.errors import error_body, error_headers
from tests.protocols.openai.sdk import json_handler, sdk_client

VECTORS = ((0.5, -0.25, 1.0), (0.125, 0.0, -1.5))
RESULT = EmbedResult(vectors=VECTORS, usage=Usage(prompt_tokens=8))


def test_float_embeddings() -> None:
    body = encode_embeddings(RESULT, "all-minilm")
    assert body == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [0.5, -0.25, 1.0]},
            {"object": "embedding", "index": 1, "embedding": [0.125, 0.0, -1.5]},
        ],
        "model": "all-minilm",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }
    CreateEmbeddingResponse.model_validate(body)


def test_base64_embeddings_decode_in_the_sdk() -> None:
    """The SDK asks for base64 by default and decodes it itself: the round trip must give the floats back."""
    seen: list[dict[str, Any]] = []

    def handler(request: dict[str, Any]) -> tuple[int, bytes, str]:
        seen.append(request)
        _, options = decode_embeddings(request)
        import orjson

        return 200, orjson.dumps(encode_embeddings(RESULT, "all-minilm", options.encoding_format)), "application/json"

    with sdk_client(handler) as client:
        response = client.embeddings.create(model="all-minilm", input=["a", "b"])
    assert seen[0]["encoding_format"] == "base64"
    assert [item.embedding for item in response.data] == [list(v) for v in VECTORS]
    assert response.usage.prompt_tokens == 8


def test_base64_is_little_endian_float32() -> None:
    body = encode_embeddings(EmbedResult(vectors=((1.0,),), usage=Usage()), "m", "base64")
    assert body["data"][0]["embedding"] == "AACAPw=="


def test_models() -> None:
    model = encode_model("llama3.2:latest", 1_700_000_000, "library")
    assert model == {"id": "llama3.2:latest", "object": "model", "created": 1_700_000_000, "owned_by": "library"}
    Model.model_validate(model)
    assert encode_model_list([model]) == {"object": "list", "data": [model]}
    assert encode_model_list([]) == {"object": "list", "data": []}
    with sdk_client(json_handler(encode_model_list([]))) as client:
        assert list(client.models.list()) == []


ERROR_TABLE: list[tuple[GatewayError, int, str, str | None]] = [
    (InvalidRequestError("bad", param="messages"), 400, "invalid_request_error", None),
    (AuthenticationError("who"), 401, "authentication_error", None),
    (PermissionDeniedError("no"), 403, "permission_error", None),
    (NotFoundError("model 'x' not found"), 404, "not_found_error", None),
    (ConflictError("busy id"), 409, "invalid_request_error", "conflict"),
    (PayloadTooLargeError("big"), 413, "invalid_request_error", "request_too_large"),
    (RateLimitError("slow down", retry_after=7), 429, "rate_limit_error", "rate_limit_exceeded"),
    (CancelledError("gone"), 499, "api_error", "request_cancelled"),
    (InternalError("oops"), 500, "api_error", None),
    (UpstreamError("bad gateway"), 502, "api_error", "upstream_error"),
    (UpstreamStreamError("mid-stream"), 502, "api_error", "upstream_error"),
    (UpstreamUnavailableError("refused"), 502, "api_error", "upstream_error"),
    (UpstreamOverloadedError("busy"), 503, "api_error", "upstream_overloaded"),
    (UpstreamTimeoutError("slow"), 504, "api_error", "upstream_timeout"),
    (UpstreamStatusError(400, '"x" does not support thinking'), 400, "invalid_request_error", None),
    (UpstreamStatusError(404, "model 'x' not found"), 404, "not_found_error", None),
    (UpstreamStatusError(429, "too many"), 429, "rate_limit_error", "rate_limit_exceeded"),
    (UpstreamStatusError(500, "runner died"), 502, "api_error", "upstream_error"),
    (UpstreamStatusError(503, "server busy"), 503, "api_error", "upstream_overloaded"),
    (InvalidRequestError("custom", code="model_not_allowed"), 400, "invalid_request_error", "model_not_allowed"),
    (QueueFullError(retry_after=3), 503, "api_error", "queue_full"),
    (QueueTimeoutError(retry_after=3), 503, "api_error", "queue_timeout"),
]


@pytest.mark.parametrize(("err", "status", "kind", "code"), ERROR_TABLE)
def test_error_body(err: GatewayError, status: int, kind: str, code: str | None) -> None:
    got_status, body = error_body(err)
    assert got_status == status
    assert body == {"error": {"message": err.message, "type": kind, "param": err.param, "code": code}}


def test_retry_after_header() -> None:
    assert error_headers(RateLimitError("x", retry_after=7)) == {"Retry-After": "7"}
    assert error_headers(QueueFullError(retry_after=4)) == {"Retry-After": "4"}
    assert error_headers(QueueTimeoutError()) == {"Retry-After": "1"}
    assert error_headers(NotFoundError("x")) == {}


@pytest.mark.parametrize(
    ("err", "exc_type"),
    [
        (InvalidRequestError("bad", param="model"), openai.BadRequestError),
        (AuthenticationError("who"), openai.AuthenticationError),
        (PermissionDeniedError("no"), openai.PermissionDeniedError),
        (NotFoundError("model 'x' not found"), openai.NotFoundError),
        (ConflictError("dup"), openai.ConflictError),
        (RateLimitError("slow"), openai.RateLimitError),
        (UpstreamTimeoutError("slow"), openai.InternalServerError),
        (QueueFullError(), openai.InternalServerError),
    ],
)
def test_sdk_raises_the_matching_exception(err: GatewayError, exc_type: type[openai.APIStatusError]) -> None:
    status, body = error_body(err)
    with sdk_client(json_handler(body, status)) as client, pytest.raises(exc_type) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == status
    assert info.value.body == body["error"]
