"""The TaskStore protocol every backend implements, its typed outage error, and the error counter."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Final, Protocol, runtime_checkable

from prometheus_client import REGISTRY, CollectorRegistry, Counter

from ollama_gateway import errors
from ollama_gateway.tasks.document import TaskDocument

LIST_LIMIT_MIN: Final = 1
LIST_LIMIT_MAX: Final = 500
LIST_LIMIT_DEFAULT: Final = 50


class TaskStoreUnavailableError(errors.UpstreamOverloadedError):
    """The task status store cannot be read right now (reported as 503); requests keep being served."""

    def __init__(self, message: str = "task status store unavailable") -> None:
        super().__init__(message, code="task_store_unavailable")


@runtime_checkable
class TaskStore(Protocol):
    """Where status documents live; writes never raise for an outage, reads raise TaskStoreUnavailableError."""

    @property
    def healthy(self) -> bool:
        """False while the backend is known to be unreachable."""
        ...

    @property
    def shared(self) -> bool:
        """True when other processes read this store (so final states are written without waiting)."""
        ...

    async def put(self, doc: TaskDocument, ttl: int, owner: str | None) -> bool:
        """Store `doc` for `ttl` seconds under `owner`; False when the write was skipped (store down)."""
        ...

    async def put_many(self, items: Sequence[tuple[TaskDocument, int, str | None]]) -> list[bool]:
        """`put` for each (document, ttl, owner) in one go; which of them were written."""
        ...

    async def get(self, task_id: str) -> TaskDocument | None:
        """The current document, or None; its owner is `extensions.key_id` (see `document.visible_to`)."""
        ...

    async def list(self, owner: str | None, limit: int = LIST_LIMIT_DEFAULT) -> list[TaskDocument]:
        """Newest first, `limit` clamped to 1..500; owner None lists every owner's tasks (admin view)."""
        ...

    async def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


def clamp_limit(limit: int) -> int:
    """`limit` clamped to 1..500."""
    return max(LIST_LIMIT_MIN, min(LIST_LIMIT_MAX, limit))


def with_owner(doc: TaskDocument, owner: str | None) -> TaskDocument:
    """A copy of `doc` whose `extensions.key_id` names `owner`: the one place ownership is recorded."""
    stored = TaskDocument(**doc)
    stored["extensions"] = {**doc["extensions"], "key_id": owner}
    return stored


_COUNTERS: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = weakref.WeakKeyDictionary()


def store_error_counter(registry: CollectorRegistry | None = None) -> Counter:
    """`gateway_task_store_errors_total{backend,op}`, created once per registry on first use."""
    target = REGISTRY if registry is None else registry
    counter = _COUNTERS.get(target)
    if counter is None:
        counter = Counter(
            "gateway_task_store_errors_total",
            "Task status store operations that failed or were skipped because the store was down.",
            ["backend", "op"],
            registry=target,
        )
        _COUNTERS[target] = counter
    return counter
