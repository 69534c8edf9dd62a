"""The gateway's long-lived parts, opened together at start and closed together at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ollama_gateway.metrics import GatewayMetrics
from ollama_gateway.service.access import RequestObserver
from ollama_gateway.service.auth import KeyAuthenticator, anonymous_key
from ollama_gateway.service.catalog import ModelCatalog
from ollama_gateway.service.changes import ChangeWatcher
from ollama_gateway.service.fleet_metrics import install_fleet_metrics
from ollama_gateway.service.hosts import sync_hosts, wanted_hosts
from ollama_gateway.service.last_used import LastUsedRecorder
from ollama_gateway.service.limits import KeyLimiter
from ollama_gateway.settings import Settings
from ollama_gateway.storage import Storage, UsageWriter, open_storage
from ollama_gateway.storage.usage import UsageRecord
from ollama_gateway.tasks import open_task_store
from ollama_gateway.tasks.store import TaskStore, store_error_counter
from ollama_gateway.tasks.tracker import SHUTDOWN_REASON, TaskTracker
from ollama_gateway.upstream.fleet import Fleet
from ollama_gateway.upstream.images import ImageFetcher
from ollama_gateway.upstream.port import HostFactory

log = logging.getLogger(__name__)

USAGE_PRUNE_SECONDS = 3600.0


@dataclass(slots=True)
class Gateway:
    """Everything a request needs: the upstream port, image fetcher, stores, catalog, auth, usage and tasks."""

    settings: Settings
    upstream: Fleet
    images: ImageFetcher
    storage: Storage
    auth: KeyAuthenticator
    catalog: ModelCatalog
    usage: UsageWriter
    task_store: TaskStore
    tracker: TaskTracker
    limiter: KeyLimiter
    metrics: GatewayMetrics
    observer: RequestObserver
    changes: ChangeWatcher
    last_used: LastUsedRecorder
    retention: asyncio.Task[None] | None = None
    shutting_down: bool = False

    @classmethod
    async def open(cls, settings: Settings, host_factory: HostFactory | None = None) -> Gateway:
        """Open storage (migrating it), the upstream pool, the task store, and load the model catalog."""
        storage = await open_storage(settings.sqlalchemy_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        upstream = Fleet(await wanted_hosts(settings, storage), settings, host_factory)
        await upstream.start()
        images = ImageFetcher(
            allow_private=settings.image_fetch_allow_private,
            max_bytes=settings.image_max_bytes,
            time_limit=settings.image_fetch_timeout,
            enabled=settings.image_fetch_enabled,
        )
        usage = UsageWriter(storage.usage, flush_seconds=settings.usage_flush_seconds)
        usage.start()
        metrics = GatewayMetrics()
        install_fleet_metrics(metrics, upstream)
        store_error_counter(metrics.registry)  # the task store's counter, in this app's registry
        last_used = LastUsedRecorder(storage.keys, flush_seconds=settings.last_used_flush_seconds)
        last_used.start()
        task_store = open_task_store(settings, registry=metrics.registry)
        tracker = TaskTracker(task_store, settings)
        catalog = ModelCatalog(
            upstream,
            storage.models,
            reload_seconds=settings.models_cache_seconds,
            refresh_seconds=settings.catalog_refresh_seconds,
        )
        gateway = cls(
            settings=settings,
            upstream=upstream,
            images=images,
            storage=storage,
            auth=KeyAuthenticator(
                storage.keys,
                stale_seconds=settings.auth_stale_seconds,
                anonymous=None if settings.auth_enabled else anonymous_key(),
                on_use=last_used.note,
            ),
            catalog=catalog,
            usage=usage,
            task_store=task_store,
            tracker=tracker,
            limiter=KeyLimiter(storage.counters, storage.keys, degraded_seconds=settings.limiter_degraded_seconds),
            metrics=metrics,
            observer=RequestObserver(metrics),
            changes=ChangeWatcher(
                storage.changes,
                every=settings.change_poll_seconds,
                database_url=settings.sqlalchemy_url,
                on_applied=lambda topic: metrics.invalidations.labels(topic).inc(),
            ),
            last_used=last_used,
        )
        watch_parts(gateway)
        gateway.changes.subscribe("keys", gateway.auth.clear)
        gateway.changes.subscribe("models", catalog.reload)
        gateway.changes.subscribe("hosts", lambda: sync_hosts(upstream, gateway.settings, storage))
        if settings.usage_retention_days > 0:
            gateway.retention = asyncio.create_task(
                prune_usage_forever(storage, settings.usage_retention_days), name="usage-retention"
            )
        await catalog.start()
        await gateway.changes.start()
        return gateway

    def record_usage(self, record: UsageRecord) -> None:
        """Queue a request's usage row (nothing with USAGE_TRACKING=off)."""
        if self.settings.usage_tracking != "off":
            self.usage.submit(record)

    async def settle_usage(self) -> None:
        """With USAGE_DURABILITY=sync, write the buffered usage rows before the response completes."""
        if self.settings.usage_durability != "sync":
            return
        try:
            await self.usage.flush()
        except Exception:  # kept buffered and retried by the writer; the response itself has succeeded
            log.exception("synchronous usage write failed; %d rows kept for the next flush", self.usage.pending)

    def end_inflight(self) -> int:
        """The shutdown grace is over: end every request still running (FAILED "gateway shutting down")."""
        self.shutting_down = True
        return self.tracker.cancel_all(SHUTDOWN_REASON)

    async def close(self) -> None:
        """Finish in-flight bookkeeping (task states, usage rows), then release every connection."""
        await self.changes.close()
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
        await self.upstream.close()
        await self.storage.close()

    @property
    def defaults(self) -> dict[str, int]:
        """Gateway-wide defaults, the last layer under request parameters and model overrides."""
        return {"timeout_ms": self.settings.request_timeout_ms}

    def time_limit_seconds(self, timeout_ms: int | None) -> float:
        """The upstream time limit for a request, in seconds."""
        return (timeout_ms or self.settings.request_timeout_ms) / 1000


def watch_parts(gateway: Gateway) -> None:
    """Expose the counters other parts keep (usage queue, catalog refreshes) as metrics read at scrape time."""
    metrics, usage, catalog = gateway.metrics, gateway.usage, gateway.catalog
    metrics.register_callback(
        "gateway_usage_queue_depth", "Usage records waiting to be written.", lambda: usage.pending, counter=False
    )
    metrics.register_callback(
        "gateway_usage_flush_failures", "Usage batch writes that failed.", lambda: usage.flush_failures, counter=True
    )
    metrics.register_callback(
        "gateway_usage_records_dropped", "Usage records dropped (buffer full).", lambda: usage.dropped, counter=True
    )
    metrics.register_callback(
        "gateway_catalog_refresh_failures",
        "Model catalog refreshes from Ollama that failed.",
        lambda: catalog.refresh_failures,
        counter=True,
    )


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
