"""Admin API for settings, the Ollama connection test, status, and the admin password."""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.api.common import json_object
from ollama_gateway.admin.guard import api, client_address
from ollama_gateway.admin.overview import ollama_state
from ollama_gateway.admin.passwords import PASSWORD_KEY, check_new_password, set_password, verify_password
from ollama_gateway.admin.runtime_settings import current, parse, probe, save
from ollama_gateway.admin.sessions import set_session_cookie
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import InvalidRequestError, PermissionDeniedError, RateLimitError
from ollama_gateway.web.context import json_response


@api
async def get_settings(request: Request) -> Response:
    """GET /admin/api/settings."""
    return json_response({"settings": asdict(current(admin_state(request).gateway))})


@api
async def put_settings(request: Request) -> Response:
    """PUT /admin/api/settings: ollama_url, request_timeout_ms, image_fetch_enabled, image_fetch_allow_private."""
    gateway = admin_state(request).gateway
    before = asdict(current(gateway))
    updated = parse(await json_object(request), current(gateway))
    await save(gateway, updated)
    changed = {name: value for name, value in asdict(updated).items() if before.get(name) != value}
    await admin_state(request).audit(request, "settings.update", "runtime", changed)
    return json_response({"settings": asdict(updated)})


@api
async def test_ollama(request: Request) -> Response:
    """POST /admin/api/settings/test `{"ollama_url": ...}` (default: the current URL): does Ollama answer there?"""
    body = await json_object(request)
    url = body.get("ollama_url") or admin_state(request).gateway.settings.ollama_url
    return json_response(await probe(url))


@api
async def status(request: Request) -> Response:
    """GET /admin/api/status: Ollama's connection state and the number of known models."""
    gateway = admin_state(request).gateway
    return json_response(
        {"ollama": await ollama_state(gateway), "models": sum(1 for r in gateway.catalog.records if r.present)}
    )


@api
async def change_password(request: Request) -> Response:
    """POST /admin/api/password `{"current_password", "new_password"}`: other sessions end; this one is renewed."""
    state = admin_state(request)
    body = await json_object(request)
    current_password, new_password = body.get("current_password"), body.get("new_password")
    if not isinstance(current_password, str) or not isinstance(new_password, str):
        raise InvalidRequestError("current_password and new_password are required", param="current_password")
    check_new_password(new_password)
    address = client_address(request)
    wait = await state.throttle.attempt(address)
    if wait:
        raise RateLimitError(f"too many failed attempts; try again in {wait} s", retry_after=wait)
    async with state.verify_slots:
        ok = await verify_password(await state.gateway.storage.kv.get(PASSWORD_KEY), current_password)
    if not ok:
        await state.audit(request, "password.change_failed")
        raise PermissionDeniedError("the current password is wrong", param="current_password")
    stored = await set_password(state.gateway.storage.kv, new_password)
    await state.gateway.storage.changes.note("settings")  # other replicas end old sessions within a second
    await state.throttle.succeeded(address)
    state.password_changed(stored)
    await state.audit(request, "password.change")
    value, _ = state.codec.issue(await state.current_fingerprint())
    response = json_response({"changed": True})
    set_session_cookie(response, request, value)
    return response


def routes() -> list[Route]:
    """Settings, status and password API routes."""
    return [
        Route("/api/settings", get_settings, methods=["GET"]),
        Route("/api/settings", put_settings, methods=["PUT", "PATCH"]),
        Route("/api/settings/test", test_ollama, methods=["POST"]),
        Route("/api/status", status, methods=["GET"]),
        Route("/api/password", change_password, methods=["POST"]),
    ]
