"""The admin's per-app state: session codec, login throttle, and the current password fingerprint."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from ollama_gateway.admin.passwords import PASSWORD_KEY, fingerprint
from ollama_gateway.admin.sessions import SessionCodec
from ollama_gateway.admin.throttle import LoginThrottle
from ollama_gateway.service.runtime import Gateway

log = logging.getLogger(__name__)

# How long a replica trusts its cached password fingerprint before re-reading it (a change elsewhere ends
# sessions here within this time).
FINGERPRINT_SECONDS = 5.0
# At most this many argon2 verifications run at once, so a login flood cannot take every CPU.
VERIFY_CONCURRENCY = 4


@dataclass(slots=True)
class AdminState:
    """Everything the admin routes share; built by `prepare_admin` and kept on `app.state.admin`."""

    gateway: Gateway
    codec: SessionCodec
    admin_token: str | None
    password_fingerprint: str
    throttle: LoginThrottle
    verify_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(VERIFY_CONCURRENCY))
    _checked_at: float = 0.0

    async def current_fingerprint(self) -> str:
        """The fingerprint of the stored password hash, re-read every few seconds."""
        now = time.monotonic()
        if now - self._checked_at > FINGERPRINT_SECONDS:
            self.password_fingerprint = fingerprint(await self.gateway.storage.kv.get(PASSWORD_KEY))
            self._checked_at = now
        return self.password_fingerprint

    def recheck_password(self) -> None:
        """Re-read the stored password hash on the next check (it may have changed in another process)."""
        self._checked_at = 0.0

    def password_changed(self, stored_hash: str) -> None:
        """Note a new password made here: sessions issued under the old one end at once."""
        self.password_fingerprint = fingerprint(stored_hash)
        self._checked_at = time.monotonic()

    async def audit(
        self,
        request: Request,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        *,
        actor: str | None = None,
    ) -> None:
        """Record an admin action with who (the request's principal), when, and from which address."""
        who = actor or actor_of(request)
        address = request.client.host if request.client else None
        try:
            await self.gateway.storage.audit.record(who, action, target, detail, address)
        except Exception:
            # The change itself has happened; failing its response now would only hide that from the admin.
            log.exception("writing the audit entry %s for %s failed", action, target)

    def token_matches(self, presented: str | None) -> bool:
        """Constant-time comparison of a presented bearer token with ADMIN_TOKEN (never true when unset)."""
        if not self.admin_token or not presented:
            return False
        expected = hashlib.sha256(self.admin_token.encode()).digest()
        return hmac.compare_digest(expected, hashlib.sha256(presented.encode()).digest())


def admin_state(request: Request) -> AdminState:
    """The admin state of the app serving `request`."""
    state: AdminState = request.app.state.admin
    return state


def actor_of(request: Request) -> str:
    """Who is acting: `admin (session abcd1234)`, `admin-token`, or `anonymous` before login."""
    principal = getattr(request.state, "admin_principal", None)
    if principal is None:
        return "anonymous"
    if isinstance(principal, str):
        return principal
    return f"admin (session {principal.sid[:8]})"
