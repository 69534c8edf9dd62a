"""Admin API for the Ollama hosts: their live state, and add / change / drain / remove (audited, applied at once)."""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.api.common import json_object
from ollama_gateway.admin.guard import api
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import GatewayError
from ollama_gateway.service.hosts import stored_host_ref, sync_hosts
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.storage.hosts import check_host_url
from ollama_gateway.upstream.hosts import HostState
from ollama_gateway.web.context import json_response


def host_json(state: HostState) -> dict[str, Any]:
    """One host as the Hosts page shows it (the auth header only as whether one is set)."""
    config = state.config
    if not config.enabled:
        status = "disabled"
    elif config.draining:
        status = "draining"
    elif state.routable:
        status = "healthy"
    else:
        status = "unreachable"
    return {
        "id": config.id,
        "url": config.url,
        "name": config.name,
        "label": config.label,
        "source": config.source,
        "weight": config.weight,
        "priority": config.priority,
        "max_concurrent": config.max_concurrent,
        "auth": config.auth_header is not None,
        "enabled": config.enabled,
        "draining": config.draining,
        "status": status,
        "breaker": state.breaker,
        "error": state.error,
        "version": state.version,
        "models": sorted(state.models),
        "loaded": sorted(state.loaded),
        "in_flight": state.in_flight,
        "latency_ms": round(state.latency_ms, 1) if state.latency_ms is not None else None,
    }


def fleet_json(gateway: Gateway) -> dict[str, Any]:
    """Every host and the queue."""
    queue = gateway.upstream.queue
    return {
        "hosts": [host_json(s) for s in gateway.upstream.states()],
        "queue": {"waiting": queue.waiting, "oldest_wait_seconds": round(queue.oldest_wait_seconds, 3)},
    }


@api
async def list_hosts(request: Request) -> Response:
    """GET /admin/api/hosts: `{hosts: [...], queue: {waiting, oldest_wait_seconds}}`."""
    return json_response(fleet_json(admin_state(request).gateway))


@api
async def add_host(request: Request) -> Response:
    """POST /admin/api/hosts `{url, name?, weight?, priority?, max_concurrent?, auth_header?}` → 201."""
    state = admin_state(request)
    body = await json_object(request)
    fields = {k: v for k, v in body.items() if k != "url" and v not in (None, "")}
    record = await state.gateway.storage.hosts.add(check_host_url(body.get("url")), **fields)
    await _apply(state.gateway)
    await state.audit(request, "host.add", record.url, {k: v for k, v in fields.items() if k != "auth_header"})
    return json_response(fleet_json(state.gateway), 201)


@api
async def update_host(request: Request) -> Response:
    """PATCH /admin/api/hosts/{id} with any of the editable fields (draining, enabled, weight, ...)."""
    state = admin_state(request)
    body = await json_object(request)
    gateway = state.gateway
    ref = await stored_host_ref(gateway.storage, gateway.settings, request.path_params["host_id"])
    record = await gateway.storage.hosts.update(ref, **body)
    await _apply(gateway)
    await state.audit(request, "host.update", record.url, {k: v for k, v in body.items() if k != "auth_header"})
    return json_response(fleet_json(gateway))


@api
async def remove_host(request: Request) -> Response:
    """DELETE /admin/api/hosts/{id}: a stored host stops being served (its requests in flight finish)."""
    state = admin_state(request)
    record = await state.gateway.storage.hosts.remove(request.path_params["host_id"])
    await _apply(state.gateway)
    await state.audit(request, "host.remove", record.url)
    return json_response(fleet_json(state.gateway))


async def _apply(gateway: Gateway) -> None:
    # This process at once; the others through the change marker the store moved. The catalog follows, so a new
    # host's models are listed (a failure stays on the catalog and shows on the models page).
    await sync_hosts(gateway.upstream, gateway.settings, gateway.storage)
    with contextlib.suppress(GatewayError):
        await gateway.catalog.refresh()


def routes() -> list[Route]:
    """Host API routes."""
    return [
        Route("/api/hosts", list_hosts, methods=["GET"]),
        Route("/api/hosts", add_host, methods=["POST"]),
        Route("/api/hosts/{host_id}", update_host, methods=["PATCH"]),
        Route("/api/hosts/{host_id}", remove_host, methods=["DELETE"]),
    ]
