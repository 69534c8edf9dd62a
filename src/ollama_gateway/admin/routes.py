"""The admin mount (pages, JSON API, static files behind security headers) and its start-up hook."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

from ollama_gateway.admin.api import audit as audit_api
from ollama_gateway.admin.api import hosts as hosts_api
from ollama_gateway.admin.api import keys as keys_api
from ollama_gateway.admin.api import models as models_api
from ollama_gateway.admin.api import override_map as override_map_api
from ollama_gateway.admin.api import settings as settings_api
from ollama_gateway.admin.api import tasks as tasks_api
from ollama_gateway.admin.api import usage as usage_api
from ollama_gateway.admin.headers import SecurityHeaders
from ollama_gateway.admin.pages import audit, auth, hosts, keys, models, overview, settings, tasks, usage, usage_detail
from ollama_gateway.admin.passwords import bootstrap_password, fingerprint
from ollama_gateway.admin.render import STATIC
from ollama_gateway.admin.runtime_settings import apply, load_stored
from ollama_gateway.admin.sessions import SessionCodec, load_secret
from ollama_gateway.admin.state import AdminState
from ollama_gateway.admin.throttle import LoginThrottle, ThrottleLimits
from ollama_gateway.service.runtime import Gateway


async def _to_admin(_: Request) -> Response:
    return RedirectResponse("/admin/", status_code=307)


def admin_routes() -> list[BaseRoute]:
    """`/` and `/admin` redirect to `/admin/`; `/admin/...` serves the pages, `/admin/api/...` the JSON API."""
    inner: list[BaseRoute] = [
        *auth.routes(),
        *overview.routes(),
        *models.routes(),
        *keys.routes(),
        *usage.routes(),
        *usage_detail.routes(),
        *tasks.routes(),
        *settings.routes(),
        *audit.routes(),
        *hosts.routes(),
        *hosts_api.routes(),
        *override_map_api.routes(),
        *models_api.routes(),
        *keys_api.routes(),
        *usage_api.routes(),
        *tasks_api.routes(),
        *settings_api.routes(),
        *audit_api.routes(),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return [
        Route("/", _to_admin, methods=["GET", "HEAD"]),
        Route("/admin", _to_admin, methods=["GET", "HEAD"]),
        Mount("/admin", app=SecurityHeaders(Router(inner)), name="admin"),
    ]


async def prepare_admin(app: Starlette, gateway: Gateway) -> None:
    """Start-up: make sure an admin password and a session secret exist, apply saved runtime settings."""
    settings = gateway.settings
    password_hash = await bootstrap_password(
        gateway.storage.kv, settings.admin_password.get_secret_value() if settings.admin_password else None
    )
    secret = await load_secret(
        gateway.storage.kv, settings.session_secret.get_secret_value() if settings.session_secret else None
    )
    stored = await load_stored(gateway)
    if stored is not None:
        await apply(gateway, stored)
    state = AdminState(
        gateway=gateway,
        codec=SessionCodec(secret),
        admin_token=settings.admin_token.get_secret_value() if settings.admin_token else None,
        password_fingerprint=fingerprint(password_hash),
        throttle=LoginThrottle(
            gateway.storage.login_attempts,
            ThrottleLimits(
                per_address=settings.login_attempts_per_address,
                overall=settings.login_attempts_global,
                window_seconds=settings.login_window_seconds,
            ),
        ),
    )
    app.state.admin = state

    async def settings_changed() -> None:
        # Saved in another process: apply its runtime settings, and re-read the password fingerprint now.
        stored = await load_stored(gateway)
        if stored is not None:
            await apply(gateway, stored)
        state.recheck_password()

    gateway.changes.subscribe("settings", settings_changed)
