"""Task status per request: the seed's status document, the TaskStore backends, and the lifecycle tracker."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from ollama_gateway.settings import Settings
from ollama_gateway.tasks.document import (
    TASK_ID_HEADER,
    TaskDocument,
    TaskState,
    failure_reason,
    new_task_id,
    owner_of,
    validate_task_id,
    visible_to,
)
from ollama_gateway.tasks.memory_store import MemoryTaskStore
from ollama_gateway.tasks.redis_store import RedisTaskStore
from ollama_gateway.tasks.store import TaskStore, TaskStoreUnavailableError, clamp_limit
from ollama_gateway.tasks.tracker import TaskHandle, TaskTracker

__all__ = [
    "TASK_ID_HEADER",
    "MemoryTaskStore",
    "RedisTaskStore",
    "TaskDocument",
    "TaskHandle",
    "TaskState",
    "TaskStore",
    "TaskStoreUnavailableError",
    "TaskTracker",
    "clamp_limit",
    "failure_reason",
    "new_task_id",
    "open_task_store",
    "owner_of",
    "validate_task_id",
    "visible_to",
]


def open_task_store(settings: Settings, *, registry: CollectorRegistry | None = None) -> TaskStore:
    """Redis when REDIS_URL/REDIS_HOST is set (connecting lazily, so startup never needs Redis), else embedded."""
    if settings.redis_connection_url() is None:
        return MemoryTaskStore(max_docs=settings.task_store_max_docs)
    return RedisTaskStore.from_settings(settings, registry=registry)
