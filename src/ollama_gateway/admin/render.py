"""Jinja2 rendering for the admin pages: autoescaped templates shipped in the package, and a few filters."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ollama_gateway.admin.sessions import Session

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# The top navigation, in order: a new page (e.g. the fleet's "/admin/hosts", "Hosts") is one more line here.
NAV: tuple[tuple[str, str], ...] = (
    ("/admin/", "Overview"),
    ("/admin/models", "Models"),
    ("/admin/hosts", "Hosts"),
    ("/admin/keys", "API keys"),
    ("/admin/usage", "Usage"),
    ("/admin/tasks", "Tasks"),
    ("/admin/audit", "Audit"),
    ("/admin/settings", "Settings"),
)


def human_bytes(value: int | None) -> str:
    """1536 → '1.5 KiB'; None → '—'."""
    if value is None:
        return "—"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def when(value: datetime | int | float | None) -> str:
    """A UTC timestamp as 'YYYY-MM-DD HH:MM:SS'; '—' when absent."""
    if value is None:
        return "—"
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def number(value: int | float | None) -> str:
    """Thousands separated; '—' when absent."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"


@functools.cache
def environment() -> Environment:
    """The template environment (autoescape on for everything; undefined names are errors)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(human_bytes=human_bytes, when=when, number=number)
    env.globals["nav"] = NAV
    return env


def render(
    request: Request, name: str, context: dict[str, Any], *, session: Session | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page; every page gets the request path, the CSRF token and the nav."""
    settings = getattr(request.app.state, "settings", None)
    values = {
        "path": request.url.path,
        "csrf_token": session.csrf if session else "",
        "logged_in": bool(session),
        "auth_off": settings is not None and not settings.auth_enabled,
    }
    html = environment().get_template(name).render({**values, **context})
    return HTMLResponse(html, status_code=status)
