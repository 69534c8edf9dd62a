"""The settings page: the Ollama URL (with a connection test) and gateway defaults."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.guard import page
from ollama_gateway.admin.render import render
from ollama_gateway.admin.runtime_settings import current
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state


@page
async def settings_page(request: Request, session: Session) -> Response:
    """GET /admin/settings."""
    gateway = admin_state(request).gateway
    return render(request, "settings.html", {"settings": current(gateway)}, session=session)


def routes() -> list[Route]:
    """The settings route."""
    return [Route("/settings", settings_page, methods=["GET"])]
