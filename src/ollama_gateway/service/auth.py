"""API key authentication with a short positive cache, so a request costs no database read in the common case."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from ollama_gateway.errors import AuthenticationError
from ollama_gateway.storage.keys import KeyRecord, KeyStore


class KeyAuthenticator:
    """Turns a presented secret into a live key record, or a 401."""

    def __init__(
        self,
        store: KeyStore,
        *,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_use: Callable[[str], None] | None = None,
    ):
        self._store = store
        self._on_use = on_use
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, KeyRecord]] = {}

    async def authenticate(self, secret: str | None) -> KeyRecord:
        """The key for `secret`; revoked, expired and unknown keys are all a 401."""
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
        if self._on_use is not None:
            self._on_use(record.id)
        return record

    def forget(self, key_id: str | None = None) -> None:
        """Drop cached entries (all, or one key's) after a change made in this process."""
        if key_id is None:
            self._cache.clear()
            return
        for digest in [d for d, (_, r) in self._cache.items() if r.id == key_id]:
            del self._cache[digest]
