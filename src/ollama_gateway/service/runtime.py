"""The gateway's long-lived parts, opened together at start and closed together at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ollama_gateway.service.auth import KeyAuthenticator
from ollama_gateway.service.catalog import ModelCatalog
from ollama_gateway.service.last_used import LastUsedRecorder
from ollama_gateway.service.limits import KeyLimiter
from ollama_gateway.settings import Settings
from ollama_gateway.storage import Storage, UsageWriter, open_storage
from ollama_gateway.tasks import open_task_store
from ollama_gateway.tasks.store import TaskStore
from ollama_gateway.tasks.tracker import TaskTracker
from ollama_gateway.upstream.client import OllamaClient
from ollama_gateway.upstream.images import ImageFetcher

log = logging.getLogger(__name__)

USAGE_PRUNE_SECONDS = 3600.0


@dataclass(slots=True)
class Gateway:
    """Everything a request needs: upstream client, image fetcher, stores, catalog, auth, usage and tasks."""

    settings: Settings
    client: OllamaClient
    images: ImageFetcher
    storage: Storage
    auth: KeyAuthenticator
    catalog: ModelCatalog
    usage: UsageWriter
    task_store: TaskStore
    tracker: TaskTracker
    limiter: KeyLimiter
    last_used: LastUsedRecorder
    retention: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, settings: Settings) -> Gateway:
        """Open storage (migrating it), the upstream pool, the task store, and load the model catalog."""
        storage = await open_storage(settings.sqlalchemy_url)
        client = OllamaClient(
            settings.ollama_url,
            connect_timeout=settings.upstream_connect_timeout,
            max_connections=settings.upstream_max_connections,
        )
        await client.start()
        images = ImageFetcher(
            allow_private=settings.image_fetch_allow_private,
            max_bytes=settings.image_max_bytes,
            time_limit=settings.image_fetch_timeout,
            enabled=settings.image_fetch_enabled,
        )
        usage = UsageWriter(storage.usage, flush_seconds=settings.usage_flush_seconds)
        usage.start()
        last_used = LastUsedRecorder(storage.keys, flush_seconds=settings.last_used_flush_seconds)
        last_used.start()
        task_store = open_task_store(settings)
        tracker = TaskTracker(task_store, settings)
        catalog = ModelCatalog(
            client,
            storage.models,
            reload_seconds=settings.models_cache_seconds,
            refresh_seconds=settings.catalog_refresh_seconds,
        )
        gateway = cls(
            settings=settings,
            client=client,
            images=images,
            storage=storage,
            auth=KeyAuthenticator(storage.keys, on_use=last_used.note),
            catalog=catalog,
            usage=usage,
            task_store=task_store,
            tracker=tracker,
            limiter=KeyLimiter(storage.counters, storage.keys),
            last_used=last_used,
        )
        if settings.usage_retention_days > 0:
            gateway.retention = asyncio.create_task(
                prune_usage_forever(storage, settings.usage_retention_days), name="usage-retention"
            )
        await catalog.start()
        return gateway

    async def close(self) -> None:
        """Finish in-flight bookkeeping (task states, usage rows), then release every connection."""
        await self.catalog.close()
        await self.tracker.close()
        await self.task_store.close()
        if self.retention is not None:
            self.retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.retention
        await self.limiter.close()
        with contextlib.suppress(Exception):
            await self.last_used.close()
        with contextlib.suppress(Exception):
            await self.usage.close()
        await self.images.close()
        await self.client.close()
        await self.storage.close()

    @property
    def defaults(self) -> dict[str, int]:
        """Gateway-wide defaults, the last layer under request parameters and model overrides."""
        return {"timeout_ms": self.settings.request_timeout_ms}

    def time_limit_seconds(self, timeout_ms: int | None) -> float:
        """The upstream time limit for a request, in seconds."""
        return (timeout_ms or self.settings.request_timeout_ms) / 1000


async def prune_usage_forever(
    storage: Storage, retention_days: int, every_seconds: float = USAGE_PRUNE_SECONDS
) -> None:
    """Delete usage records older than `retention_days`, now and then every `every_seconds`, until cancelled."""
    while True:
        cutoff = datetime.now(UTC) - timedelta(days=retention_days)
        try:
            await storage.usage.prune(cutoff)
        except Exception:
            log.exception("pruning old usage records failed")
        await prune_admin_records(storage, cutoff)
        await asyncio.sleep(every_seconds)


async def prune_admin_records(storage: Storage, cutoff: datetime) -> None:
    """The audit log is kept as long as usage; login-attempt windows a day (known-good markers a month)."""
    now = int(datetime.now(UTC).timestamp())
    try:
        await storage.audit.prune(cutoff)
        await storage.login_attempts.prune(now - 86_400, markers_before=now - 31 * 86_400)
    except Exception:
        log.exception("pruning the audit log or login attempts failed")
