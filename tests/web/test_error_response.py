"""The error boundary's response: the surface's body, and Retry-After for every error that carries one."""

from __future__ import annotations

import orjson
import pytest

from ollama_gateway.errors import GatewayError, NotFoundError, QueueFullError, QueueTimeoutError, RateLimitError
from ollama_gateway.protocols.anthropic import error_body as anthropic_body
from ollama_gateway.protocols.ollama.errors import error_body as ollama_body
from ollama_gateway.protocols.openai.errors import error_body as openai_body
from ollama_gateway.web.context import Surface, error_response

SURFACES = [Surface("openai", openai_body), Surface("anthropic", anthropic_body), Surface("ollama", ollama_body)]


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (RateLimitError("slow down", retry_after=7), 429, "7"),
        (QueueFullError(retry_after=3), 503, "3"),
        (QueueTimeoutError(retry_after=0), 503, "1"),  # never tells a client to retry at once
        (NotFoundError("model 'x' not found"), 404, None),
    ],
)
def test_retry_after_on_errors_that_carry_it(
    surface: Surface, error: GatewayError, status: int, retry_after: str | None
) -> None:
    response = error_response(surface, error, {"X-Task-Id": "t1"})
    assert response.status_code == status
    assert response.headers.get("retry-after") == retry_after
    assert response.headers["x-task-id"] == "t1"
    assert orjson.loads(response.body) == surface.error_body(error)[1]
