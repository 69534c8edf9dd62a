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
from ollama_gateway.settings import Settings


def environment_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """Settings read only at start: (variable, current value with secrets masked, what it does)."""
    secret = "set (hidden)"  # noqa: S105 - a label shown instead of the value
    return [
        ("HOST, PORT", f"{settings.host}:{settings.port}", "Where the gateway listens."),
        ("DATABASE_URL", "set" if settings.database_url else "SQLite under GATEWAY_DATA_DIR", "Keys, usage, settings."),
        ("REDIS_URL / REDIS_HOST", secret if settings.redis_connection_url() else "unset (embedded)", "Task status."),
        ("USAGE_RETENTION_DAYS", str(settings.usage_retention_days), "How long usage and the audit log are kept."),
        ("TRUSTED_PROXIES", settings.trusted_proxies or "none", "Proxies whose X-Forwarded-For is believed."),
        (
            "LOGIN_ATTEMPTS_PER_ADDRESS, LOGIN_ATTEMPTS_GLOBAL",
            f"{settings.login_attempts_per_address}, {settings.login_attempts_global} per "
            f"{settings.login_window_seconds // 60} min",
            "Login throttle; the command ollama-gateway admin unlock lifts it.",
        ),
        ("ADMIN_TOKEN", secret if settings.admin_token else "unset", "Bearer token for the admin API."),
        ("MAX_BODY_BYTES", f"{settings.max_body_bytes:,}", "Request body limit."),
        ("CATALOG_REFRESH_SECONDS", str(settings.catalog_refresh_seconds), "Model list refresh from Ollama."),
    ]


@page
async def settings_page(request: Request, session: Session) -> Response:
    """GET /admin/settings: runtime settings (apply now) and the environment's (apply after a restart)."""
    gateway = admin_state(request).gateway
    context = {"settings": current(gateway), "environment": environment_rows(gateway.settings)}
    return render(request, "settings.html", context, session=session)


def routes() -> list[Route]:
    """The settings route."""
    return [Route("/settings", settings_page, methods=["GET"])]
