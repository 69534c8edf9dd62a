"""Who may do what: sessions for pages, session + CSRF + same origin or the admin token for the API."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ollama_gateway.admin.sessions import COOKIE_NAME, Session, is_https
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import (
    AuthenticationError,
    GatewayError,
    InternalError,
    PermissionDeniedError,
    RateLimitError,
    effective_kind,
)
from ollama_gateway.web.context import json_response

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
TOKEN_PRINCIPAL = "admin-token"  # noqa: S105 - a label, not a secret

Principal = Session | str
PageHandler = Callable[[Request, Session], Awaitable[Response]]
ApiHandler = Callable[[Request], Awaitable[Response]]


def client_address(request: Request) -> str:
    """The client's address: the peer, or what a TRUSTED_PROXIES proxy said it is (see web/forwarded.py)."""
    return request.client.host if request.client else "unknown"


def own_origin(request: Request) -> str:
    """This gateway's origin as the browser sees it (`scheme://host[:port]`)."""
    scheme = "https" if is_https(request) else request.url.scheme
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or request.url.netloc
    return f"{scheme}://{host.split(',')[0].strip()}".lower()


def same_origin(request: Request) -> bool:
    """Whether Origin (or, failing that, Referer) names this gateway; a request with neither is refused."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return False
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin.lower() == own_origin(request)


async def current_session(request: Request) -> Session | None:
    """The valid session of this browser, or None (bad signature, expired, or the password changed since)."""
    state = admin_state(request)
    session = state.codec.read(request.cookies.get(COOKIE_NAME))
    if session is None or session.fingerprint != await state.current_fingerprint():
        return None
    return session


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def check_csrf(request: Request, session: Session, form_token: str | None = None) -> None:
    """Refuse (403) a state change without this session's CSRF token or from another origin."""
    if not same_origin(request):
        raise PermissionDeniedError("cross-origin request refused", code="bad_origin")
    if not session.csrf_matches(request.headers.get(CSRF_HEADER) or form_token):
        raise PermissionDeniedError("missing or wrong CSRF token", code="bad_csrf_token")


async def authorize_api(request: Request) -> Principal:
    """The admin token (no CSRF needed: browsers cannot attach it cross-site) or a session with CSRF checks."""
    token = bearer(request)
    if token is not None:
        if admin_state(request).token_matches(token):
            return TOKEN_PRINCIPAL
        raise AuthenticationError("invalid admin token")
    session = await current_session(request)
    if session is None:
        raise AuthenticationError("log in at /admin/login or send 'Authorization: Bearer <ADMIN_TOKEN>'")
    if request.method not in SAFE_METHODS:
        await check_csrf(request, session)
    return session


def error_json(error: GatewayError) -> Response:
    """An admin API error: `{"error": {"message", "type", "param", "code"}}` with the error's status."""
    body: dict[str, Any] = {
        "error": {"message": error.message, "type": effective_kind(error), "param": error.param, "code": error.code}
    }
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimitError) else None
    return json_response(body, error.http_status, headers)


def api(handler: ApiHandler) -> ApiHandler:
    """Wrap an admin API endpoint: authorization, CSRF for sessions, and errors as JSON."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        try:
            request.state.admin_principal = await authorize_api(request)
            return await handler(request)
        except GatewayError as error:
            return error_json(error)
        except Exception as exc:
            log.exception("admin API %s %s failed", request.method, request.url.path)
            return error_json(InternalError(f"internal error: {type(exc).__name__}"))

    return run


def page(handler: PageHandler) -> ApiHandler:
    """Wrap a page: without a valid session, redirect to the login page (coming back here afterwards)."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        session = await current_session(request)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/admin/login?next={quote(target, safe='')}", status_code=303)
        request.state.admin_principal = session
        return await handler(request, session)

    return run


def safe_next(value: str | None) -> str:
    """A post-login redirect target, only ever a path inside the admin (no open redirect)."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin/"
