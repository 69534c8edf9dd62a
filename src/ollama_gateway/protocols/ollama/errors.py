"""Gateway errors in Ollama's own shape, for the native passthrough: `{"error": "<text>"}`."""

from __future__ import annotations

from typing import Any

from ollama_gateway.errors import GatewayError


def error_body(err: GatewayError) -> tuple[int, dict[str, Any]]:
    """Status and body as Ollama would answer."""
    return err.http_status, {"error": err.message}
