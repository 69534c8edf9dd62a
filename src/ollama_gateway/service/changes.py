"""Changes made by other processes (the CLI, other workers, other replicas) applied here within a second.

One background loop reads the change markers every `every` seconds (one small query, never per request) and
runs the callbacks of each topic whose marker moved: the key cache is dropped, the model settings reloaded,
the admin's runtime settings re-applied. On PostgreSQL a LISTEN connection wakes the loop at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.engine import make_url

from ollama_gateway.storage.changes import CHANNEL, ChangeStore, Topic

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]


class ChangeWatcher:
    """Polls the change markers (and listens on PostgreSQL) and calls each changed topic's subscribers."""

    def __init__(
        self,
        store: ChangeStore,
        *,
        every: float = 0.5,
        database_url: str | None = None,
        on_applied: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._every = every
        self._database_url = database_url
        self._on_applied = on_applied
        self._subscribers: dict[str, list[Callback]] = {}
        self._seen: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: Any = None
        self._failing = False

    def subscribe(self, topic: Topic, callback: Callback) -> None:
        """Run `callback` whenever `topic` changes (in any process, this one included)."""
        self._subscribers.setdefault(topic, []).append(callback)

    async def start(self) -> None:
        """Note the current markers and start watching."""
        with contextlib.suppress(Exception):
            self._seen = await self._store.versions()
        await self._listen()
        self._task = asyncio.create_task(self._loop(), name="change-watcher")

    async def close(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._listener.close(), 2)
            self._listener = None

    async def check(self) -> list[str]:
        """Read the markers once and run the subscribers of every topic that moved; returns those topics."""
        versions = await self._store.versions()
        changed = [topic for topic, value in versions.items() if self._seen.get(topic) != value]
        self._seen = versions
        for topic in changed:
            for callback in self._subscribers.get(topic, []):
                try:
                    await callback()
                except Exception:
                    log.exception("applying a change to %s failed", topic)
            if self._on_applied is not None:
                self._on_applied(topic)
        return changed

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._every):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.check()
            except Exception as exc:  # the database is away: keep the caches, say so once
                if not self._failing:
                    log.warning("cannot read change markers (%s); cached keys and models stay as they are", exc)
                self._failing = True
            else:
                if self._failing:
                    log.warning("change markers readable again")
                self._failing = False

    async def _listen(self) -> None:
        """On PostgreSQL, LISTEN for change notifications so they apply before the next poll."""
        if self._database_url is None:
            return
        url = make_url(self._database_url)
        if url.get_backend_name() != "postgresql":
            return
        try:
            import asyncpg

            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._listener = await asyncio.wait_for(asyncpg.connect(dsn), 5)
            await self._listener.add_listener(CHANNEL, lambda *_: self._wake.set())
        except Exception as exc:  # polling still works; LISTEN only makes it quicker
            log.warning("PostgreSQL LISTEN unavailable, polling for changes instead: %s", exc)
            self._listener = None
