"""Admin API for the audit log: newest entries first, filtered by action family and time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.api.common import plain
from ollama_gateway.admin.guard import api
from ollama_gateway.admin.state import admin_state
from ollama_gateway.admin.usage_filters import parse_page
from ollama_gateway.web.context import json_response


@api
async def audit_log(request: Request) -> Response:
    """GET /admin/api/audit?action=key.&page=N&limit=M: `{entries, page, limit}`."""
    action = request.query_params.get("action") or None
    number, size = parse_page(request.query_params)
    store = admin_state(request).gateway.storage.audit
    entries = await store.list(limit=size, offset=(number - 1) * size, action=action)
    return json_response({"entries": plain(entries), "page": number, "limit": size})


def routes() -> list[Route]:
    """Audit API routes."""
    return [Route("/api/audit", audit_log, methods=["GET"])]
