"""`GET /metrics`: this app's Prometheus registry, behind METRICS_TOKEN when one is set."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.metrics import CONTENT_TYPE
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.web.auth import presented_key


def token_matches(expected: str, presented: str | None) -> bool:
    """Constant-time comparison of the presented bearer token with METRICS_TOKEN."""
    if not presented:
        return False
    return hmac.compare_digest(hashlib.sha256(expected.encode()).digest(), hashlib.sha256(presented.encode()).digest())


async def metrics(request: Request) -> Response:
    """The metrics in Prometheus' text format; 401 without the right bearer token when METRICS_TOKEN is set."""
    gateway: Gateway = request.app.state.gateway
    token = gateway.settings.metrics_token
    if token is not None and not token_matches(token.get_secret_value(), presented_key(request.headers)):
        return Response(
            "metrics need 'Authorization: Bearer <METRICS_TOKEN>'\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(gateway.metrics.render(), media_type=CONTENT_TYPE)


def routes() -> list[Route]:
    """The metrics route."""
    return [Route("/metrics", metrics, methods=["GET"])]
