"""Admin API for models: list, refresh, edit settings and overrides, pull with progress, delete."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ollama_gateway.admin.api.common import json_object, plain
from ollama_gateway.admin.guard import api
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import GatewayError, InvalidRequestError, NotFoundError
from ollama_gateway.policy.overrides import validate_overrides
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.storage.models import ModelRecord
from ollama_gateway.storage.sql import UNSET
from ollama_gateway.web.context import json_response

MAX_NAME_LENGTH = 512


def model_json(record: ModelRecord) -> dict[str, Any]:
    """A model as the API shows it."""
    return {**plain(record), "public_name": record.public_name}


def _name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_NAME_LENGTH:
        raise InvalidRequestError("a model name is required", param="model")
    return raw.strip()


@api
async def list_models(request: Request) -> Response:
    """GET /admin/api/models."""
    gateway = admin_state(request).gateway
    await gateway.catalog.reload()
    return json_response({"models": [model_json(r) for r in gateway.catalog.records]})


@api
async def refresh_models(request: Request) -> Response:
    """POST /admin/api/models/refresh: ask Ollama for its models now."""
    gateway = admin_state(request).gateway
    records = await gateway.catalog.refresh()
    return json_response({"models": [model_json(r) for r in records]})


@api
async def update_model(request: Request) -> Response:
    """PATCH /admin/api/models/{name}: display_name, enabled, hidden, overrides (validated)."""
    gateway = admin_state(request).gateway
    name = request.path_params["name"]
    if await gateway.storage.models.get(name) is None:
        raise NotFoundError(f"model '{name}' not found", param="name")
    body = await json_object(request)
    changes: dict[str, Any] = {}
    if "display_name" in body:
        display = body["display_name"]
        if display is not None and not isinstance(display, str):
            raise InvalidRequestError("display_name must be text or null", param="display_name")
        changes["display_name"] = (display.strip() or None) if isinstance(display, str) else None
    for flag in ("enabled", "hidden"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise InvalidRequestError(f"{flag} must be true or false", param=flag)
            changes[flag] = body[flag]
    if "overrides" in body:
        overrides = body["overrides"]
        if isinstance(overrides, str):
            overrides = _parse_overrides_text(overrides)
        changes["overrides"] = validate_overrides(overrides)
    record = await gateway.storage.models.set(
        name,
        display_name=changes.get("display_name", UNSET),
        enabled=changes.get("enabled", UNSET),
        hidden=changes.get("hidden", UNSET),
        overrides=changes.get("overrides", UNSET),
    )
    await gateway.catalog.reload()
    await admin_state(request).audit(request, "model.update", name, changes)
    return json_response({"model": model_json(record)})


def _parse_overrides_text(text: str) -> Any:
    if not text.strip():
        return {}
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"overrides are not valid JSON: {exc}", param="overrides") from exc


@api
async def delete_model(request: Request) -> Response:
    """DELETE /admin/api/models/{name}: delete it from Ollama, then refresh the catalog."""
    gateway = admin_state(request).gateway
    name = _name(request.path_params["name"])
    host = request.query_params.get("host") or None
    results = await gateway.upstream.delete(name, host=host)
    await _refresh_quietly(gateway)
    await admin_state(request).audit(request, "model.delete", name, {"host": host} if host else None)
    return json_response({"deleted": name, "hosts": results})


@api
async def pull_model(request: Request) -> Response:
    """POST /admin/api/models/pull `{"model": name}`: Ollama's progress relayed as NDJSON, then a catalog refresh."""
    gateway = admin_state(request).gateway
    body = await json_object(request)
    name = _name(body.get("model"))
    host = body.get("host") or None
    if host is not None:
        gateway.upstream.host(str(host))  # 404 before the stream starts
    await admin_state(request).audit(request, "model.pull", name, {"host": str(host)} if host else None)
    return StreamingResponse(_pull_lines(gateway, name, host), media_type="application/x-ndjson")


async def _pull_lines(gateway: Gateway, name: str, host: str | None) -> AsyncIterator[bytes]:
    labels = {c.id: c.label for c in gateway.upstream.configs}
    try:
        async for progress in gateway.upstream.pull(name, host=host):
            event = progress.event
            if event.get("status") == "success":
                await _refresh_quietly(gateway)
            yield orjson.dumps({**_progress(event), "host": labels.get(progress.host, progress.host)}) + b"\n"
            if "error" in event and host is not None:
                return
    except GatewayError as exc:
        yield orjson.dumps({"error": exc.message}) + b"\n"


def _progress(event: dict[str, Any]) -> dict[str, Any]:
    # Only the fields the page needs, with a percentage worked out here once.
    out: dict[str, Any] = {k: event[k] for k in ("status", "digest", "total", "completed", "error") if k in event}
    total, completed = event.get("total"), event.get("completed", 0)
    if isinstance(total, int) and total > 0 and isinstance(completed, int):
        out["percent"] = round(100 * completed / total, 1)
    if event.get("status") == "success":
        out["percent"] = 100.0
    return out


async def _refresh_quietly(gateway: Gateway) -> None:
    # A failure is kept on the catalog (last_refresh_error) and shown on the models page.
    with contextlib.suppress(GatewayError):
        await gateway.catalog.refresh()


def routes() -> list[Route]:
    """Model API routes."""
    return [
        Route("/api/models", list_models, methods=["GET"]),
        Route("/api/models/refresh", refresh_models, methods=["POST"]),
        Route("/api/models/pull", pull_model, methods=["POST"]),
        Route("/api/models/{name:path}", update_model, methods=["PATCH"]),
        Route("/api/models/{name:path}", delete_model, methods=["DELETE"]),
    ]
