"""Embedded task store: in-process, bounded, same TTLs and listing as the Redis backend."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ollama_gateway.tasks.document import TaskDocument, decode_document, encode_document
from ollama_gateway.tasks.store import LIST_LIMIT_DEFAULT, clamp_limit, with_owner

DEFAULT_MAX_DOCS: Final = 100_000


@dataclass(slots=True)
class _Entry:
    # Kept encoded, like Redis: readers get their own copy, and values round-trip through JSON the same way.
    raw: bytes
    owner: str | None
    expires_at: float


class MemoryTaskStore:
    """Task documents in a dict ordered by last write; expiry against an injectable monotonic clock."""

    def __init__(self, *, max_docs: int = DEFAULT_MAX_DOCS, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_docs = max(1, max_docs)
        self._clock = clock
        # Both orders are "least recently written first", so the newest entries sit at the end.
        self._docs: OrderedDict[str, _Entry] = OrderedDict()
        self._by_owner: dict[str | None, OrderedDict[str, None]] = {}

    @property
    def healthy(self) -> bool:
        """Always True: nothing can go down."""
        return True

    @property
    def shared(self) -> bool:
        """False: only this process reads it."""
        return False

    async def put(self, doc: TaskDocument, ttl: int, owner: str | None) -> bool:
        """Store `doc` for `ttl` seconds under `owner`, evicting the oldest documents past the size bound."""
        task_id = doc["task_id"]
        self._drop(task_id)
        # A copy: orjson's output keeps its ~4 KiB working buffer alive for ~400 bytes of JSON, which at
        # 100,000 documents is ~400 MiB instead of ~40 MiB.
        raw = bytes(memoryview(encode_document(with_owner(doc, owner))))
        self._docs[task_id] = _Entry(raw, owner, self._clock() + ttl)
        self._by_owner.setdefault(owner, OrderedDict())[task_id] = None
        while len(self._docs) > self._max_docs:
            self._drop(next(iter(self._docs)))
        return True

    async def put_many(self, items: Sequence[tuple[TaskDocument, int, str | None]]) -> list[bool]:
        """`put` each (document, ttl, owner)."""
        return [await self.put(doc, ttl, owner) for doc, ttl, owner in items]

    async def get(self, task_id: str) -> TaskDocument | None:
        """The live document, or None once missing or expired."""
        entry = self._docs.get(task_id)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            self._drop(task_id)
            return None
        return decode_document(entry.raw)

    async def list(self, owner: str | None, limit: int = LIST_LIMIT_DEFAULT) -> list[TaskDocument]:
        """Newest first, `limit` clamped to 1..500; owner None lists every owner's tasks."""
        limit = clamp_limit(limit)
        order = self._docs.keys() if owner is None else self._by_owner.get(owner, OrderedDict()).keys()
        now = self._clock()
        found: list[TaskDocument] = []
        expired: list[str] = []
        for task_id in reversed(order):
            entry = self._docs[task_id]
            if entry.expires_at <= now:
                expired.append(task_id)
                continue
            doc = decode_document(entry.raw)
            if doc is not None:
                found.append(doc)
            if len(found) >= limit:
                break
        for task_id in expired:
            self._drop(task_id)
        return found

    async def close(self) -> None:
        """Forget everything."""
        self._docs.clear()
        self._by_owner.clear()

    def __len__(self) -> int:
        return len(self._docs)

    def _drop(self, task_id: str) -> None:
        entry = self._docs.pop(task_id, None)
        if entry is None:
            return
        ids = self._by_owner.get(entry.owner)
        if ids is not None:
            ids.pop(task_id, None)
            if not ids:
                del self._by_owner[entry.owner]
