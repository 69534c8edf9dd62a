"""The model catalog: Ollama's models joined with the operator's settings, resolved from client names."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ollama_gateway.errors import GatewayError, NotFoundError, PermissionDeniedError
from ollama_gateway.policy.names import not_found_message, resolve_family
from ollama_gateway.storage.keys import KeyRecord
from ollama_gateway.storage.models import CatalogEntry, ModelRecord, ModelStore, name_variants
from ollama_gateway.upstream.port import Upstream

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A client's model name resolved to the Ollama model and the operator's settings for it."""

    requested: str
    upstream: str
    record: ModelRecord


class ModelCatalog:
    """Keeps an in-memory view of the catalog; reloads it from the store and refreshes it from Ollama."""

    def __init__(self, upstream: Upstream, store: ModelStore, *, reload_seconds: float, refresh_seconds: float):
        self._upstream = upstream
        self._store = store
        self._reload_seconds = reload_seconds
        self._refresh_seconds = refresh_seconds
        self._records: list[ModelRecord] = []
        self._index: dict[str, ModelRecord] = {}
        self._families: dict[str, ModelRecord] = {}
        self._loaded_at = 0.0
        self._misses: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.last_refresh_error: str | None = None
        self.refresh_failures = 0

    @property
    def records(self) -> Sequence[ModelRecord]:
        """Every model the store knows, present or not."""
        return self._records

    async def start(self) -> None:
        """Load what the store has, refresh from Ollama once, then keep both fresh in the background."""
        await self.reload()
        with contextlib.suppress(GatewayError):
            await self.refresh()
        self._task = asyncio.create_task(self._loop(), name="catalog-refresh")

    async def close(self) -> None:
        """Stop the background refresh."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def reload(self) -> None:
        """Re-read the operator's settings (another replica may have changed them)."""
        self._install(await self._store.list())

    async def refresh(self) -> list[ModelRecord]:
        """Ask Ollama for its models (and capabilities of new ones) and sync them into the store."""
        async with self._lock:
            try:
                entries = [await self._entry(raw) for raw in await self._upstream.models()]
            except GatewayError as exc:
                self.refresh_failures += 1
                # Logged when the failure starts or changes, not on every scheduled retry.
                level = logging.DEBUG if exc.message == self.last_refresh_error else logging.WARNING
                log.log(level, "model catalog refresh failed: %s", exc.message)
                self.last_refresh_error = exc.message
                raise
            if self.last_refresh_error is not None:
                log.warning("model catalog refresh works again")
            self.last_refresh_error = None
            records = await self._store.sync_catalog(entries)
            self._install(await self._store.list())
            return records

    def resolve(self, name: str, key: KeyRecord | None) -> ResolvedModel:
        """The model `name` means for this key: 404 when unknown or disabled, 403 when the key may not use it."""
        record = self._lookup(name)
        if record is None or not record.enabled or not record.present:
            known = servable_names(self.visible(key))
            raise NotFoundError(not_found_message(name, known), param="model", code="model_not_found")
        if key is not None and not key_allows(key, record):
            raise PermissionDeniedError(f"this API key may not use model '{name}'", param="model")
        return ResolvedModel(requested=name, upstream=record.name, record=record)

    async def resolve_fresh(self, name: str, key: KeyRecord | None) -> ResolvedModel:
        """Like `resolve`, but an unknown name triggers one refresh first (a model may have just been pulled)."""
        now = time.monotonic()
        # An unknown name asks Ollama once (it may have just been pulled); repeats within a second do not.
        if self._lookup(name) is None and now - self._misses.get(name, 0.0) > 1.0:
            if len(self._misses) > 1000:
                self._misses.clear()
            self._misses[name] = now
            try:
                await self.refresh()
            except GatewayError:
                if self._lookup(name) is None:
                    raise  # Ollama could not be asked: say so (502/504) rather than "not found"
        return self.resolve(name, key)

    def visible(self, key: KeyRecord | None) -> list[ModelRecord]:
        """The models a key may list: enabled, present in Ollama and allowed."""
        return [r for r in self._records if r.enabled and r.present and (key is None or key_allows(key, r))]

    def _lookup(self, name: str) -> ModelRecord | None:
        # An exact name first; else a bare family with exactly one servable tag (`qwen3` → `qwen3:8b`).
        record = self._index.get(name)
        return self._families.get(name) if record is None else record

    def _install(self, records: list[ModelRecord]) -> None:
        index: dict[str, ModelRecord] = {}
        for record in records:
            if record.ollama_name_visible:
                for variant in name_variants(record.name):
                    index.setdefault(variant, record)
        for record in records:  # a display name wins over an Ollama name spelled the same
            if record.display_name:
                for variant in name_variants(record.display_name):
                    index[variant] = record
        servable = servable_names([r for r in records if r.enabled and r.present])
        families: dict[str, ModelRecord] = {}
        for family in {n.split(":", 1)[0] for n in servable if ":" in n} - set(index):
            alias = resolve_family(family, servable)
            if alias is not None and alias in index:
                families[family] = index[alias]
        self._families = families
        self._records, self._index, self._loaded_at = records, index, time.monotonic()

    async def _entry(self, raw: dict[str, Any]) -> CatalogEntry:
        name = str(raw.get("name") or raw.get("model"))
        capabilities = raw.get("capabilities")
        if not capabilities:
            known = self._index.get(name)
            if known is not None and known.capabilities and _same_version(known, raw):
                capabilities = list(known.capabilities)
            else:
                shown = await self._upstream.show(name)
                capabilities = shown.get("capabilities") or []
        return CatalogEntry(
            name=name,
            size=raw.get("size"),
            details=raw.get("details") or {},
            capabilities=tuple(capabilities),
            modified_at=_parse_time(raw.get("modified_at")),
        )

    async def _loop(self) -> None:
        last_refresh = time.monotonic()
        while True:
            await asyncio.sleep(self._reload_seconds)
            try:
                if time.monotonic() - last_refresh >= self._refresh_seconds:
                    last_refresh = time.monotonic()
                    await self.refresh()
                else:
                    await self.reload()
            except GatewayError:
                pass  # logged by refresh(); the last good view stays in place
            except Exception:
                log.exception("model catalog reload failed")


def servable_names(records: Sequence[ModelRecord]) -> list[str]:
    """The names clients may send for these records: the display name, and the Ollama name unless hidden."""
    names = []
    for record in records:
        if record.display_name:
            names.append(record.display_name)
        if record.ollama_name_visible:
            names.append(record.name)
    return names


def key_allows(key: KeyRecord, record: ModelRecord) -> bool:
    """Whether a key's model list names this model, by its Ollama name or its display name."""
    if key.models is None:
        return True
    names = set(name_variants(record.name))
    if record.display_name:
        names.update(name_variants(record.display_name))
    return any(allowed in names for allowed in key.models)


def _same_version(known: ModelRecord, raw: dict[str, Any]) -> bool:
    modified = _parse_time(raw.get("modified_at"))
    return modified is None or known.modified_at is None or modified == known.modified_at


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        # Ollama prints nanoseconds; Python parses at most microseconds.
        head, _, tail = value.partition(".")
        digits = "".join(c for c in tail if c.isdigit())[:6]
        zone = tail[len("".join(c for c in tail if c.isdigit())) :] or "+00:00"
        try:
            return datetime.fromisoformat(f"{head}.{digits}{zone.replace('Z', '+00:00')}")
        except ValueError:
            return None
