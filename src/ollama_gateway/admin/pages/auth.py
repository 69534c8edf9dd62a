"""Logging in and out, and the account page where the password is changed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ollama_gateway.admin.guard import CSRF_FIELD, check_csrf, client_address, current_session, page, safe_next
from ollama_gateway.admin.guard import same_origin as is_same_origin
from ollama_gateway.admin.passwords import PASSWORD_KEY, verify_password
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session, clear_session_cookie, set_session_cookie
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import GatewayError

MAX_FORM_BYTES = 16 * 1024


def _login_page(
    request: Request, *, error: str | None = None, status: int = 200, next_url: str = "/admin/"
) -> Response:
    state = admin_state(request)
    context = {"login_token": state.codec.login_token(), "error": error, "next": safe_next(next_url)}
    return render(request, "login.html", context, status=status)


async def login_form(request: Request) -> Response:
    """GET /admin/login."""
    next_url = safe_next(request.query_params.get("next"))
    if await current_session(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    return _login_page(request, next_url=next_url)


async def login(request: Request) -> Response:
    """POST /admin/login: throttled, same-origin only, with a signed form token; sets the session cookie."""
    state = admin_state(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return _login_page(request, error="The form was too large.", status=413)
    form = await request.form()
    next_url = safe_next(str(form.get("next") or ""))
    if not is_same_origin(request) or not state.codec.login_token_valid(str(form.get("login_token") or "")):
        return _login_page(request, error="The login form expired or came from another site; try again.", status=403)
    address = client_address(request)
    wait = await state.throttle.attempt(address)  # counted before the password is looked at
    if wait:
        # Not audited: refused attempts are unbounded under attack, while checked ones are capped by the throttle.
        response = _login_page(
            request, error=f"Too many failed attempts. Try again in {wait} s.", status=429, next_url=next_url
        )
        response.headers["Retry-After"] = str(wait)
        return response
    async with state.verify_slots:
        stored = await state.gateway.storage.kv.get(PASSWORD_KEY)
        ok = await verify_password(stored, str(form.get("password") or ""))
    if not ok:
        await state.audit(request, "login.failed", actor="anonymous")
        return _login_page(request, error="Wrong password.", status=401, next_url=next_url)
    await state.throttle.succeeded(address)
    await state.audit(request, "login", actor="admin")
    state.password_changed(stored or "")
    value, _ = state.codec.issue(await state.current_fingerprint())
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, request, value)
    return response


async def logout(request: Request) -> Response:
    """POST /admin/logout (CSRF-checked): drop the cookie."""
    session = await current_session(request)
    if session is not None:
        form = await request.form()
        try:
            await check_csrf(request, session, str(form.get(CSRF_FIELD) or ""))
        except GatewayError as error:
            return Response(error.message, status_code=error.http_status, media_type="text/plain")
    response = RedirectResponse("/admin/login", status_code=303)
    clear_session_cookie(response, request)
    return response


@page
async def account(request: Request, session: Session) -> Response:
    """GET /admin/account: change the admin password."""
    env_managed = admin_state(request).gateway.settings.admin_password is not None
    return render(request, "account.html", {"env_managed": env_managed}, session=session)


def routes() -> list[Route]:
    """Login, logout and account routes."""
    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/account", account, methods=["GET"]),
    ]
