"""Signed, stateless admin sessions: a cookie holding a session id, its CSRF token and the password fingerprint."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from ollama_gateway.storage.kv import SettingsStore

COOKIE_NAME = "og_admin"
COOKIE_PATH = "/admin"
SESSION_SECONDS = 12 * 3600
LOGIN_FORM_SECONDS = 3600
SECRET_KEY = "admin.session_secret"  # noqa: S105 - the name of a stored setting, not a secret
_SESSION_SALT = "ollama-gateway.admin.session"
_LOGIN_SALT = "ollama-gateway.admin.login-form"


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in admin browser: its id, CSRF token and the password fingerprint it logged in under."""

    sid: str
    csrf: str
    fingerprint: str

    def csrf_matches(self, presented: str | None) -> bool:
        """Constant-time check of a presented CSRF token."""
        return bool(presented) and hmac.compare_digest(self.csrf.encode(), (presented or "").encode())


async def load_secret(kv: SettingsStore, configured: str | None) -> str:
    """SESSION_SECRET, or one generated once and kept in the store so restarts and replicas share it."""
    if configured:
        return configured
    return await kv.set_default(SECRET_KEY, secrets.token_urlsafe(48))


class SessionCodec:
    """Signs and checks session cookies and login-form tokens with the session secret."""

    def __init__(self, secret: str) -> None:
        self._sessions = URLSafeTimedSerializer(secret, salt=_SESSION_SALT)
        self._login = URLSafeTimedSerializer(secret, salt=_LOGIN_SALT)

    def issue(self, password_fingerprint: str) -> tuple[str, Session]:
        """A new session and its signed cookie value."""
        session = Session(secrets.token_urlsafe(16), secrets.token_urlsafe(32), password_fingerprint)
        value = self._sessions.dumps({"sid": session.sid, "csrf": session.csrf, "fp": session.fingerprint})
        return value, session

    def read(self, value: str | None) -> Session | None:
        """The session a cookie value holds, or None when it is missing, forged or expired."""
        if not value:
            return None
        try:
            data: Any = self._sessions.loads(value, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("sid", "csrf", "fp")):
            return None
        return Session(data["sid"], data["csrf"], data["fp"])

    def login_token(self) -> str:
        """A signed, timed token the login form must send back."""
        return self._login.dumps(secrets.token_urlsafe(8))

    def login_token_valid(self, token: str | None) -> bool:
        """Whether a login-form token is ours and recent."""
        if not token:
            return False
        try:
            self._login.loads(token, max_age=LOGIN_FORM_SECONDS)
        except BadSignature:
            return False
        return True


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (directly or via a proxy saying so)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    """Attach the session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS, limited to /admin."""
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    """Remove the session cookie."""
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="strict", secure=is_https(request))
