"""Opening, closing and reopening storage: everything written survives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from ollama_gateway.errors import DependencyUnavailableError
from ollama_gateway.storage import CatalogEntry, Storage, UsageRecord, open_storage
from ollama_gateway.storage.schema import current_revision


async def test_data_persists_across_close_and_reopen(storage_url: str) -> None:
    async with await open_storage(storage_url) as storage:
        assert await storage.ping()
        record, secret = await storage.keys.create("persistent", rpm=5)
        await storage.models.sync_catalog([CatalogEntry(name="llama3:latest", size=1)])
        await storage.models.set("llama3:latest", display_name="house")
        await storage.kv.set("k", "v")
        await storage.counters.hit("rpm:x", 0, amount=3)
        stamp = datetime(2026, 1, 1, tzinfo=UTC)
        await storage.usage.insert_many(
            [
                UsageRecord(
                    created_at=stamp,
                    key_id=record.id,
                    model_requested="house",
                    model_upstream="llama3:latest",
                    endpoint="/v1/chat/completions",
                    status=200,
                )
            ]
        )

    async with await open_storage(storage_url) as reopened:
        assert await reopened.keys.verify(secret) == record
        resolved = await reopened.models.resolve("house")
        assert resolved is not None and resolved.name == "llama3:latest"
        assert await reopened.kv.get("k") == "v"
        assert await reopened.counters.get("rpm:x", 0) == 3
        [usage] = await reopened.usage.query()
        assert usage.created_at == stamp and usage.key_id == record.id


async def test_storage_exposes_its_dialect(storage: Storage, storage_url: str) -> None:
    expected = "sqlite" if storage_url.startswith("sqlite") else "postgresql"
    assert storage.dialect == expected


async def test_open_without_migrating_leaves_the_schema_alone(storage_url: str) -> None:
    async with await open_storage(storage_url, migrate=False) as storage:
        assert await storage.ping()
        assert await current_revision(storage.database.engine) is None


async def test_a_failed_open_releases_the_engine() -> None:
    with pytest.raises(DependencyUnavailableError):  # a refused connect is mapped once, at the storage boundary
        await open_storage("postgresql://nobody@127.0.0.1:1/none")


def test_a_cancelled_query_is_never_mapped_to_an_outage() -> None:
    # SQLAlchemy reports a task cancelled mid-query as a disconnect; mapping it to DependencyUnavailableError
    # would let `except Exception` loops swallow the cancellation (a gateway that never stops).
    from types import SimpleNamespace

    from ollama_gateway.storage.database import _map_outage

    for original in (asyncio.CancelledError(), KeyboardInterrupt()):
        context = SimpleNamespace(sqlalchemy_exception=None, original_exception=original, is_disconnect=True)
        _map_outage(context)  # type: ignore[arg-type]  # returns: SQLAlchemy re-raises the original as it is
    refused = SimpleNamespace(
        sqlalchemy_exception=None, original_exception=ConnectionRefusedError(), is_disconnect=True
    )
    with pytest.raises(DependencyUnavailableError):
        _map_outage(refused)  # type: ignore[arg-type]
