"""Gateway errors → OpenAI error bodies: `{"error": {"message", "type", "param", "code"}}`.

The openai SDK picks its exception class from the HTTP status alone; `type` is informational, so it
follows OpenAI's own names where they exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ollama_gateway.errors import ErrorKind, GatewayError, effective_kind

ERROR_TYPES: Final[Mapping[ErrorKind, str]] = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "conflict": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "cancelled": "api_error",
    "api_error": "api_error",
    "upstream": "api_error",
    "overloaded": "api_error",
    "timeout": "api_error",
}
"""Error kind → OpenAI error `type`."""

DEFAULT_CODES: Final[Mapping[ErrorKind, str]] = {
    "conflict": "conflict",
    "request_too_large": "request_too_large",
    "rate_limit": "rate_limit_exceeded",
    "cancelled": "request_cancelled",
    "upstream": "upstream_error",
    "overloaded": "upstream_overloaded",
    "timeout": "upstream_timeout",
}
"""Kinds that share an OpenAI type get a `code` telling them apart, unless the error carries its own."""


def error_body(err: GatewayError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and OpenAI error body for a gateway error (Ollama's own text kept as the message)."""
    kind = effective_kind(err)
    body = {
        "error": {
            "message": err.message,
            "type": ERROR_TYPES[kind],
            "param": err.param,
            "code": err.code if err.code is not None else DEFAULT_CODES.get(kind),
        }
    }
    return err.http_status, body


def error_headers(err: GatewayError) -> dict[str, str]:
    """Extra response headers: `Retry-After` for errors that carry one (rate limits, a busy gateway)."""
    retry_after = getattr(err, "retry_after", None)
    return {"Retry-After": str(retry_after)} if retry_after is not None else {}
