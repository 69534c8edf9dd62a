"""API key authentication with a short positive cache, so a request costs no database read in the common case."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ollama_gateway.errors import AuthenticationError, DependencyUnavailableError
from ollama_gateway.storage.keys import KeyRecord, KeyStore

log = logging.getLogger(__name__)

ANONYMOUS_KEY_ID = "anonymous"


def anonymous_key() -> KeyRecord:
    """The identity every request has with AUTH=off: every model, no limits, one shared owner of tasks."""
    return KeyRecord(
        id=ANONYMOUS_KEY_ID,
        name="AUTH=off",
        prefix="",
        models=None,
        rpm=None,
        tpm=None,
        token_budget=None,
        tokens_used=0,
        expires_at=None,
        revoked_at=None,
        created_at=datetime.now(UTC),
        last_used_at=None,
    )


class KeyAuthenticator:
    """Turns a presented secret into a live key record, or a 401; with `anonymous` set (AUTH=off), that record."""

    def __init__(
        self,
        store: KeyStore,
        *,
        cache_seconds: float = 5.0,
        stale_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        anonymous: KeyRecord | None = None,
        on_use: Callable[[str], None] | None = None,
    ):
        self._store = store
        self.anonymous = anonymous
        self._on_use = on_use
        self._cache_seconds = cache_seconds
        # While the database is away, a key verified within this long is still served from the cache.
        self._stale_seconds = stale_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, KeyRecord]] = {}
        self._serving_stale = False

    async def authenticate(self, secret: str | None) -> KeyRecord:
        """The key for `secret`; revoked, expired and unknown keys are all a 401 (with AUTH=off: anonymous)."""
        if self.anonymous is not None:
            return self.anonymous  # a trusted network: whatever the client sends (SDKs insist on some key)
        if not secret:
            raise AuthenticationError("missing API key: send 'Authorization: Bearer <key>'")
        digest = hashlib.sha256(secret.encode()).hexdigest()
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            record = cached[1]
        else:
            record = await self._verify(secret, digest, now, cached)
        if record.revoked:
            raise AuthenticationError("API key has been revoked")
        if record.expired(datetime.now(UTC)):
            raise AuthenticationError("API key has expired")
        if self._on_use is not None:
            self._on_use(record.id)
        return record

    async def clear(self) -> None:
        """Drop every cached key (a key changed in another process)."""
        self._cache.clear()

    async def _verify(self, secret: str, digest: str, now: float, cached: tuple[float, KeyRecord] | None) -> KeyRecord:
        try:
            found = await self._store.verify(secret)
        except DependencyUnavailableError:
            # Cached until `expiry`: still served (without renewing the entry) until expiry + stale_seconds.
            if cached is None or cached[0] + self._stale_seconds <= now:
                raise
            if not self._serving_stale:
                self._serving_stale = True
                log.warning("database unavailable: serving keys from the authentication cache")
            return cached[1]
        if self._serving_stale:
            self._serving_stale = False
            log.warning("database reachable again: keys are verified against it")
        if found is None:
            self._cache.pop(digest, None)
            raise AuthenticationError("invalid API key")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self._cache_seconds, found)
        return found

    def forget(self, key_id: str | None = None) -> None:
        """Drop cached entries (all, or one key's) after a change made in this process."""
        if key_id is None:
            self._cache.clear()
            return
        for digest in [d for d, (_, r) in self._cache.items() if r.id == key_id]:
            del self._cache[digest]
