"""Batching usage records off the request path: `submit` is O(1) and never touches the database."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from ollama_gateway.storage.usage import UsageRecord

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
DEFAULT_MAX_BUFFERED = 100_000


class UsageSink(Protocol):
    """Where batches go: `UsageStore` in the gateway, a fake in tests."""

    async def insert_many(self, records: Sequence[UsageRecord]) -> int:
        """Store a batch; raise to have it kept and retried."""
        ...


class UsageWriter:
    """Buffers usage records and writes them in batches every `flush_seconds` or once `batch_size` pile up."""

    def __init__(
        self,
        store: UsageSink,
        *,
        flush_seconds: float = 1.0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
    ) -> None:
        if flush_seconds <= 0 or batch_size < 1 or max_buffered < batch_size:
            raise ValueError("need flush_seconds > 0 and 1 <= batch_size <= max_buffered")
        self._store = store
        self._flush_seconds = flush_seconds
        self._batch_size = batch_size
        self._max_buffered = max_buffered
        self._buffer: collections.deque[UsageRecord] = collections.deque()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._dropping = False
        self.dropped = 0
        self.written = 0
        self.flush_failures = 0

    @property
    def pending(self) -> int:
        """Records submitted but not yet written."""
        return len(self._buffer)

    def start(self) -> None:
        """Start the background flusher on the running event loop (idempotent)."""
        if self._closed:
            raise RuntimeError("the usage writer is closed")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="usage-writer")

    def submit(self, record: UsageRecord) -> None:
        """Queue a record for the next batch; when the buffer is full the oldest record is dropped."""
        if self._closed:
            self._drop("the usage writer is closed")
            return
        if len(self._buffer) >= self._max_buffered:
            self._buffer.popleft()
            self._drop(f"the buffer holds {self._max_buffered} unwritten records")
        self._buffer.append(record)
        if len(self._buffer) >= self._batch_size:
            self._wake.set()

    async def flush(self) -> int:
        """Write every record submitted before this call; on failure they stay buffered and the error is raised."""
        async with self._lock:
            remaining = len(self._buffer)
            written = 0
            while remaining > 0 and self._buffer:
                batch = [self._buffer.popleft() for _ in range(min(self._batch_size, remaining, len(self._buffer)))]
                try:
                    await self._store.insert_many(batch)
                except BaseException as exc:
                    self._restore(batch)
                    if isinstance(exc, Exception):
                        self.flush_failures += 1
                    raise
                remaining -= len(batch)
                written += len(batch)
                self.written += len(batch)
            if self._dropping:
                log.warning("usage writer recovered; %d records dropped so far", self.dropped)
                self._dropping = False
            return written

    async def close(self) -> None:
        """Stop the background flusher and write whatever remains."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        try:
            await self.flush()
        except Exception:
            log.exception("could not write %d usage records at shutdown", len(self._buffer))

    async def __aenter__(self) -> UsageWriter:
        self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _run(self) -> None:
        while not self._stop.is_set():
            await self._wait(self._wake)
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("usage flush failed; %d records kept for the next round", len(self._buffer))
                # While the database is down, a full buffer must not turn the loop into a busy retry.
                await self._wait(self._stop)

    async def _wait(self, event: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._flush_seconds):
                await event.wait()

    def _restore(self, batch: list[UsageRecord]) -> None:
        self._buffer.extendleft(reversed(batch))
        while len(self._buffer) > self._max_buffered:
            self._buffer.popleft()
            self._drop(f"the buffer holds {self._max_buffered} unwritten records")

    def _drop(self, reason: str) -> None:
        self.dropped += 1
        if not self._dropping:
            self._dropping = True
            log.warning("dropping usage records: %s", reason)
