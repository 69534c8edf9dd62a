"""API key authentication with a short positive cache, so a request costs no database read in the common case."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ollama_gateway.errors import AuthenticationError
from ollama_gateway.storage.keys import KeyRecord, KeyStore

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
        clock: Callable[[], float] = time.monotonic,
        anonymous: KeyRecord | None = None,
    ):
        self._store = store
        self.anonymous = anonymous
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, KeyRecord]] = {}

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
            found = await self._store.verify(secret)
            if found is None:
                self._cache.pop(digest, None)
                raise AuthenticationError("invalid API key")
            record = found
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self._cache_seconds, record)
        if record.revoked:
            raise AuthenticationError("API key has been revoked")
        if record.expired(datetime.now(UTC)):
            raise AuthenticationError("API key has expired")
        return record

    async def clear(self) -> None:
        """Drop every cached key (a key changed in another process)."""
        self._cache.clear()

    def forget(self, key_id: str | None = None) -> None:
        """Drop cached entries (all, or one key's) after a change made in this process."""
        if key_id is None:
            self._cache.clear()
            return
        for digest in [d for d, (_, r) in self._cache.items() if r.id == key_id]:
            del self._cache[digest]
