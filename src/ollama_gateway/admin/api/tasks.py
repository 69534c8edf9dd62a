"""Admin API for tasks: the newest tasks of every key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.guard import api
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.tasks.store import clamp_limit
from ollama_gateway.web.context import json_response


@api
async def list_tasks(request: Request) -> Response:
    """GET /admin/api/tasks?limit=100: `{"tasks": [...]}`, newest first."""
    try:
        limit = clamp_limit(int(request.query_params.get("limit", "100")))
    except ValueError as exc:
        raise InvalidRequestError("limit must be an integer", param="limit") from exc
    tasks = await admin_state(request).gateway.tracker.list(None, limit)
    return json_response({"tasks": tasks})


def routes() -> list[Route]:
    """Task API routes."""
    return [Route("/api/tasks", list_tasks, methods=["GET"])]
