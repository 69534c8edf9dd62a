"""Storage of the admin's second round on SQLite and PostgreSQL: audit log, key rotation, budget periods, last use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.storage import Storage


async def test_audit_entries_newest_first_filtered_and_pruned(storage: Storage) -> None:
    await storage.audit.record("admin (session ab)", "key.create", "key_1", {"name": "a"}, "127.0.0.1")
    await storage.audit.record("cli", "login.unlock")
    await storage.audit.record("admin-token", "key.revoke", "key_1", None, "10.0.0.1")
    entries = await storage.audit.list()
    assert [e.action for e in entries] == ["key.revoke", "login.unlock", "key.create"]
    assert entries[2].detail == {"name": "a"} and entries[2].client_ip == "127.0.0.1"
    assert entries[1].detail is None and entries[1].target is None
    assert [e.action for e in await storage.audit.list(action="key.")] == ["key.revoke", "key.create"]
    assert [e.action for e in await storage.audit.list(action="key")] == []  # exact unless it ends in a dot
    assert [e.action for e in await storage.audit.list(limit=1, offset=1)] == ["login.unlock"]
    assert await storage.audit.prune(datetime.now(UTC) + timedelta(seconds=1)) == 3
    assert await storage.audit.list() == []


async def test_rotation_replaces_the_secret_with_an_optional_grace(storage: Storage) -> None:
    key, old = await storage.keys.create("app", rpm=3)
    rotated = await storage.keys.rotate(key.id)
    assert rotated is not None
    record, new = rotated
    assert record.id == key.id and record.rpm == 3 and record.prefix == new[:10]
    assert await storage.keys.verify(old) is None
    assert (await storage.keys.verify(new)) is not None

    again = await storage.keys.rotate(key.id, grace_seconds=60)
    assert again is not None
    _, newest = again
    assert (await storage.keys.verify(new)) is not None  # within its grace
    assert (await storage.keys.verify(newest)) is not None
    assert await storage.keys.verify(old) is None

    await storage.keys.revoke(key.id)
    assert await storage.keys.rotate(key.id) is None  # a revoked key is not revived
    assert await storage.keys.verify(new) is None


async def test_delete_removes_the_key(storage: Storage) -> None:
    key, secret = await storage.keys.create("gone")
    assert await storage.keys.delete(key.id) is True
    assert await storage.keys.get(key.id) is None and await storage.keys.verify(secret) is None
    assert await storage.keys.delete(key.id) is False


async def test_budget_period_rolls_once_per_period(storage: Storage) -> None:
    key, _ = await storage.keys.create("b", token_budget=100, budget_period="weekly")
    assert key.budget_period == "weekly" and key.budget_period_start is None
    await storage.keys.add_tokens_used(key.id, 40)
    start = datetime(2026, 11, 30, tzinfo=UTC)
    assert await storage.keys.roll_budget_period(key.id, start) is True
    assert await storage.keys.roll_budget_period(key.id, start) is False  # a second replica does nothing
    rolled = await storage.keys.get(key.id)
    assert rolled is not None and rolled.tokens_used == 0 and rolled.budget_period_start == start
    with pytest.raises(InvalidRequestError):
        await storage.keys.create("x", budget_period="hourly")
    updated = await storage.keys.update(key.id, budget_period=None)
    assert updated is not None and updated.budget_period is None and updated.budget_period_start is None


async def test_touch_writes_last_use_for_many_keys_and_never_backwards(storage: Storage) -> None:
    a, _ = await storage.keys.create("a")
    b, _ = await storage.keys.create("b")
    now = datetime.now(UTC).replace(microsecond=0)
    await storage.keys.touch({a.id: now, b.id: now - timedelta(hours=1)})
    await storage.keys.touch({a.id: now - timedelta(days=1)})  # an older note does not move it back
    got = {k.id: k.last_used_at for k in await storage.keys.list()}
    assert got == {a.id: now, b.id: now - timedelta(hours=1)}
    await storage.keys.touch({})


async def test_overrides_replaced_atomically(storage: Storage) -> None:
    await storage.models.set("a:latest", overrides={"num_ctx": 1})
    await storage.models.set("b:latest", overrides={"num_ctx": 2})
    await storage.models.replace_overrides(
        {"a:latest": {"temperature": 0.5}, "c:latest": {"top_k": 3}}, clear_others=True
    )
    got = {r.name: dict(r.overrides) for r in await storage.models.list()}
    assert got == {"a:latest": {"temperature": 0.5}, "b:latest": {}, "c:latest": {"top_k": 3}}
