"""When each key was last used: noted in memory on the request path, written in one statement per flush."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from ollama_gateway.storage.keys import KeyStore

log = logging.getLogger(__name__)

DEFAULT_FLUSH_SECONDS = 10.0


class LastUsedRecorder:
    """Collects `key id → last use` between flushes; a background loop (or `flush`) writes them in one UPDATE."""

    def __init__(self, keys: KeyStore, *, flush_seconds: float = DEFAULT_FLUSH_SECONDS) -> None:
        self._keys = keys
        self._flush_seconds = flush_seconds
        self._pending: dict[str, datetime] = {}
        self._loop: asyncio.Task[None] | None = None

    def note(self, key_id: str) -> None:
        """Remember that `key_id` was used now (no I/O)."""
        self._pending[key_id] = datetime.now(UTC)

    @property
    def pending(self) -> int:
        """How many keys wait to be written."""
        return len(self._pending)

    async def flush(self) -> None:
        """Write what was noted since the last flush; on failure it stays for the next one."""
        if not self._pending:
            return
        batch, self._pending = self._pending, {}
        try:
            await self._keys.touch(batch)
        except Exception:
            log.exception("recording last use of %d keys failed; kept for the next flush", len(batch))
            for key_id, at in batch.items():
                self._pending.setdefault(key_id, at)

    def start(self) -> None:
        """Start the periodic flush."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop().create_task(self._run(), name="key-last-used")

    async def close(self) -> None:
        """Stop the loop and write what is left."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            await self.flush()
