"""The gateway's usage retention loop: prunes at start, then every interval, survives failures, stops on cancel."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from ollama_gateway.service.runtime import prune_admin_records, prune_usage_forever
from ollama_gateway.storage import Storage, open_storage


class FakeUsage:
    """Records each prune cutoff; the first call fails, as a database outage would."""

    def __init__(self) -> None:
        self.cutoffs: list[datetime] = []
        self.called = asyncio.Event()

    async def prune(self, older_than: datetime) -> int:
        self.cutoffs.append(older_than)
        self.called.set()
        if len(self.cutoffs) == 1:
            raise OSError("database unreachable")
        return 0


class FakeAdminStore:
    async def prune(self, *args: object, **kwargs: object) -> int:
        return 0


class FakeStorage:
    def __init__(self) -> None:
        self.usage = FakeUsage()
        self.audit = FakeAdminStore()
        self.login_attempts = FakeAdminStore()


async def test_prunes_with_the_retention_cutoff_and_keeps_going_after_a_failure() -> None:
    storage = FakeStorage()
    task = asyncio.create_task(prune_usage_forever(cast(Storage, storage), 30, every_seconds=0))
    try:
        async with asyncio.timeout(5):
            while len(storage.usage.cutoffs) < 3:
                storage.usage.called.clear()
                await storage.usage.called.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    expected = datetime.now(UTC) - timedelta(days=30)
    assert all(abs(cutoff - expected) < timedelta(minutes=1) for cutoff in storage.usage.cutoffs)
    assert task.cancelled()


async def test_the_audit_log_is_kept_as_long_as_usage(tmp_path: Path) -> None:
    async with await open_storage(f"sqlite:///{tmp_path / 'gateway.db'}") as storage:
        await storage.audit.record("cli", "login.unlock")
        await prune_admin_records(storage, datetime.now(UTC) - timedelta(days=30))
        assert len(await storage.audit.list()) == 1
        await prune_admin_records(storage, datetime.now(UTC) + timedelta(seconds=1))
        assert await storage.audit.list() == []
