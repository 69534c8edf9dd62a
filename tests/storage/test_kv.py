"""Key-value settings."""

from __future__ import annotations

import asyncio

from ollama_gateway.storage import Storage


async def test_get_set_replace_delete(storage: Storage) -> None:
    kv = storage.kv
    assert await kv.get("admin_password_hash") is None
    await kv.set("admin_password_hash", "$argon2id$v=19$...")
    assert await kv.get("admin_password_hash") == "$argon2id$v=19$..."
    await kv.set("admin_password_hash", "replaced")
    assert await kv.get("admin_password_hash") == "replaced"
    await kv.set("runtime.models_cache_seconds", "30")
    assert await kv.get_all() == {"admin_password_hash": "replaced", "runtime.models_cache_seconds": "30"}
    assert await kv.delete("admin_password_hash")
    assert not await kv.delete("admin_password_hash")
    assert await kv.get("admin_password_hash") is None


async def test_values_keep_unicode_and_long_text(storage: Storage) -> None:
    value = "ключ 🔑 " * 2000
    await storage.kv.set("long", value)
    assert await storage.kv.get("long") == value


async def test_set_default_keeps_the_first_value_even_under_races(storage: Storage) -> None:
    # Replicas starting together each propose a session secret; all must end up with the same one.
    chosen = await asyncio.gather(*(storage.kv.set_default("session_secret", f"secret-{n}") for n in range(20)))
    assert len(set(chosen)) == 1
    assert await storage.kv.get("session_secret") == chosen[0]
    await storage.kv.set("session_secret", "rotated")
    assert await storage.kv.set_default("session_secret", "ignored") == "rotated"
