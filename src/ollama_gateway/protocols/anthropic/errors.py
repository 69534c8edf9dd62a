"""GatewayError → HTTP status and Anthropic error body (`{"type": "error", "error": {"type", "message"}}`).

The status is the error's own (`err.http_status`); the Anthropic error type follows its kind. Kinds the
Anthropic API has no type for follow its documented rule: other 4XX → `invalid_request_error`, other
5XX → `api_error`.
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
    "conflict": "conflict_error",
    "request_too_large": "request_too_large",
    "rate_limit": "rate_limit_error",
    "cancelled": "invalid_request_error",
    "api_error": "api_error",
    "upstream": "api_error",
    "overloaded": "overloaded_error",
    "timeout": "timeout_error",
}


def error_type(err: GatewayError) -> str:
    """The Anthropic error type for a gateway error."""
    return ERROR_TYPES[effective_kind(err)]


def error_object(err: GatewayError) -> dict[str, Any]:
    """The full error object, also sent as the data of a stream's `error` event."""
    return {"type": "error", "error": {"type": error_type(err), "message": err.message}}


def error_body(err: GatewayError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body reporting `err` to an Anthropic client."""
    return err.http_status, error_object(err)


def error_headers(err: GatewayError) -> dict[str, str]:
    """Extra response headers: `retry-after` for errors that carry one (rate limits, a busy gateway)."""
    retry_after = getattr(err, "retry_after", None)
    return {"retry-after": str(retry_after)} if retry_after is not None else {}
