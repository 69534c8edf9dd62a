"""The Hosts page: every Ollama host's health, breaker, models and load, the queue, and host changes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.api.hosts import fleet_json
from ollama_gateway.admin.guard import page
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state


@page
async def hosts_page(request: Request, session: Session) -> Response:
    """GET /admin/hosts."""
    return render(request, "hosts.html", fleet_json(admin_state(request).gateway), session=session)


def routes() -> list[Route]:
    """The hosts route."""
    return [Route("/hosts", hosts_page, methods=["GET"])]
