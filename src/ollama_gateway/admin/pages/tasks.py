"""The tasks page: recent tasks of every key; the table refreshes itself from the admin API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.guard import page
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import GatewayError

PAGE_LIMIT = 100


@page
async def tasks_page(request: Request, session: Session) -> Response:
    """GET /admin/tasks."""
    gateway = admin_state(request).gateway
    error = None
    try:
        tasks = await gateway.tracker.list(None, PAGE_LIMIT)
    except GatewayError as exc:
        tasks, error = [], exc.message
    return render(request, "tasks.html", {"tasks": tasks, "error": error, "limit": PAGE_LIMIT}, session=session)


def routes() -> list[Route]:
    """The tasks route."""
    return [Route("/tasks", tasks_page, methods=["GET"])]
