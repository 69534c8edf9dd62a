"""Liveness and readiness probes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.errors import GatewayError
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.web.context import json_response


async def healthz(_: Request) -> Response:
    """200 while the process lives."""
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when the database and Ollama both answer; 503 naming what does not."""
    gateway: Gateway = request.app.state.gateway
    checks: dict[str, str] = {}
    checks["database"] = "ok" if await gateway.storage.ping() else "unreachable"
    try:
        version = await gateway.client.request_json("GET", "/api/version", time_limit=3)
        checks["ollama"] = "ok"
        checks["ollama_version"] = str((version or {}).get("version", "unknown"))
    except GatewayError as exc:
        checks["ollama"] = f"unreachable: {exc.message}"
    checks["task_store"] = "ok" if gateway.task_store.healthy else "degraded"
    ready = checks["database"] == "ok" and checks["ollama"] == "ok"
    return json_response({"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503)


def routes() -> list[Route]:
    """The probe routes."""
    return [Route("/healthz", healthz, methods=["GET", "HEAD"]), Route("/readyz", readyz, methods=["GET"])]
