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
    hosts: dict[str, str] = {}
    for state in gateway.upstream.states():
        if not state.config.enabled:
            hosts[state.config.label] = "disabled"
        elif state.config.draining:
            hosts[state.config.label] = "draining"
        elif state.routable:
            hosts[state.config.label] = "ok"
        else:
            hosts[state.config.label] = f"unreachable: {state.error or state.breaker}"
    healthy = [s for s in gateway.upstream.states() if s.routable]
    if healthy:
        checks["ollama"] = "ok"
        checks["ollama_version"] = healthy[0].version or "unknown"
    else:
        try:  # no probe has succeeded yet: ask now, so a host that just came back counts
            version = await gateway.upstream.version()
            checks["ollama"] = "ok"
            checks["ollama_version"] = str(version.get("version", "unknown"))
        except GatewayError as exc:
            checks["ollama"] = f"unreachable: {exc.message}"
    checks["task_store"] = "ok" if gateway.task_store.healthy else "degraded"
    ready = checks["database"] == "ok" and checks["ollama"] == "ok"
    body = {"status": "ready" if ready else "not ready", "checks": checks, "hosts": hosts}
    return json_response(body, 200 if ready else 503)


def routes() -> list[Route]:
    """The probe routes."""
    return [Route("/healthz", healthz, methods=["GET", "HEAD"]), Route("/readyz", readyz, methods=["GET"])]
