"""CORS for browser clients of the API (off unless CORS_ORIGINS is set); pure ASGI, so streams pass untouched."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# What a browser client may send and read; the admin UI is same-origin only and never gets CORS headers.
ALLOWED_METHODS = ("GET", "POST", "DELETE", "OPTIONS")
EXPOSED_HEADERS = ("X-Task-Id", "Retry-After")
PREFLIGHT_MAX_AGE = 600
EXCLUDED_PREFIX = "/admin"


class ApiCors:
    """Answers preflight `OPTIONS` and adds CORS headers for the configured origins, except under /admin."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=list(ALLOWED_METHODS),
            allow_headers=["*"],
            expose_headers=list(EXPOSED_HEADERS),
            allow_credentials=False,  # API keys travel in headers, never cookies
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route API traffic through the CORS layer; the admin UI and lifespan events go straight to the app."""
        if scope["type"] != "http" or scope["path"].startswith(EXCLUDED_PREFIX):
            await self.app(scope, receive, send)
            return
        await self.cors(scope, receive, send)
