"""API keys: one-time secrets, hashed at rest, verified by hash; revocation, updates and expiry exposure."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.storage import Storage


async def test_create_returns_the_secret_once_and_a_public_record(storage: Storage) -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    record, secret = await storage.keys.create(
        "ci bot", models=("llama3:latest", "qwen"), rpm=60, tpm=10_000, token_budget=1_000_000, expires_at=expires
    )
    assert re.fullmatch(r"sk-og-[A-Za-z0-9_-]{40,}", secret)
    assert re.fullmatch(r"key_[0-9a-f]{12}", record.id)
    assert record.prefix == secret[:10]
    assert record.name == "ci bot"
    assert record.models == ("llama3:latest", "qwen")
    assert (record.rpm, record.tpm, record.token_budget, record.tokens_used) == (60, 10_000, 1_000_000, 0)
    assert record.expires_at == expires
    assert record.revoked_at is None and record.last_used_at is None
    assert record.created_at.tzinfo is not None
    assert await storage.keys.get(record.id) == record


async def test_no_model_list_means_every_model(storage: Storage) -> None:
    record, _ = await storage.keys.create("all")
    assert record.models is None
    assert record.allows_model("anything")
    narrow, _ = await storage.keys.create("none", models=())
    assert narrow.models == ()
    assert not narrow.allows_model("anything")


async def test_secrets_are_stored_only_as_sha256_hashes(storage: Storage) -> None:
    _, secret = await storage.keys.create("k")
    async with storage.database.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT * FROM api_keys"))).mappings().all()
    assert len(rows) == 1
    stored = [str(value) for value in rows[0].values() if value is not None]
    assert all(secret not in value for value in stored)
    assert all(secret[10:20] not in value for value in stored)  # not even a fragment past the display prefix
    assert rows[0]["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()


async def test_verify_finds_the_key_by_its_secret(storage: Storage) -> None:
    record, secret = await storage.keys.create("k")
    other, _ = await storage.keys.create("other")
    assert await storage.keys.verify(secret) == record
    assert (await storage.keys.verify(secret)) != other


@pytest.mark.parametrize("attempt", ["", "sk-og-", "sk-og-nope", "Bearer x", "sk-og-" + "A" * 40])
async def test_verify_rejects_unknown_secrets(storage: Storage, attempt: str) -> None:
    await storage.keys.create("k")
    assert await storage.keys.verify(attempt) is None


async def test_verify_rejects_a_near_miss(storage: Storage) -> None:
    _, secret = await storage.keys.create("k")
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert await storage.keys.verify(flipped) is None


async def test_revoked_keys_do_not_verify(storage: Storage) -> None:
    record, secret = await storage.keys.create("k")
    revoked = await storage.keys.revoke(record.id)
    assert revoked is not None and revoked.revoked and revoked.revoked_at is not None
    assert await storage.keys.verify(secret) is None
    again = await storage.keys.revoke(record.id)
    assert again is not None and again.revoked_at == revoked.revoked_at  # the first revocation time is kept
    assert await storage.keys.revoke("key_000000000000") is None


async def test_expired_keys_still_verify_and_expose_their_expiry(storage: Storage) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    record, secret = await storage.keys.create("old", expires_at=past)
    verified = await storage.keys.verify(secret)
    assert verified == record
    assert verified.expires_at == past
    assert verified.expired(datetime.now(UTC))
    assert not verified.expired(past - timedelta(seconds=1))


async def test_expiry_in_another_zone_is_kept_as_the_same_instant(storage: Storage) -> None:
    plus_two = datetime(2031, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    record, _ = await storage.keys.create("tz", expires_at=plus_two)
    assert record.expires_at == plus_two
    assert record.expires_at is not None and record.expires_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(storage: Storage) -> None:
    with pytest.raises(InvalidRequestError):
        await storage.keys.create("naive", expires_at=datetime(2030, 1, 1))


async def test_update_changes_only_the_given_fields(storage: Storage) -> None:
    record, secret = await storage.keys.create("k", models=("a",), rpm=10, tpm=100, token_budget=1000)
    updated = await storage.keys.update(record.id, name="renamed", rpm=None, models=None)
    assert updated is not None
    assert (updated.name, updated.rpm, updated.models) == ("renamed", None, None)
    assert (updated.tpm, updated.token_budget, updated.prefix) == (100, 1000, record.prefix)
    expires = datetime(2029, 1, 1, tzinfo=UTC)
    updated = await storage.keys.update(record.id, models=["b", "c"], expires_at=expires, tokens_used=5)
    assert updated is not None
    assert (updated.models, updated.expires_at, updated.tokens_used) == (("b", "c"), expires, 5)
    assert await storage.keys.update(record.id) == updated
    assert await storage.keys.verify(secret) == updated
    assert await storage.keys.update("key_000000000000", name="x") is None


async def test_models_null_is_sql_null(storage: Storage) -> None:
    record, _ = await storage.keys.create("k", models=("a",))
    await storage.keys.update(record.id, models=None)
    async with storage.database.engine.connect() as connection:
        nulls = (await connection.execute(sa.text("SELECT count(*) FROM api_keys WHERE models IS NULL"))).scalar_one()
    assert nulls == 1


@pytest.mark.parametrize(
    ("field", "value"), [("name", "  "), ("rpm", -1), ("tpm", -1), ("token_budget", -5), ("tokens_used", -1)]
)
async def test_update_validates(storage: Storage, field: str, value: object) -> None:
    record, _ = await storage.keys.create("k")
    with pytest.raises(InvalidRequestError) as caught:
        await storage.keys.update(record.id, **{field: value})  # type: ignore[arg-type]
    assert caught.value.param == field


async def test_list_orders_by_creation_and_can_hide_revoked(storage: Storage) -> None:
    first, _ = await storage.keys.create("first")
    second, _ = await storage.keys.create("second")
    await storage.keys.revoke(first.id)
    assert [key.id for key in await storage.keys.list()] == [first.id, second.id]
    assert [key.id for key in await storage.keys.list(include_revoked=False)] == [second.id]


async def test_add_tokens_used_accumulates_and_tracks_last_use(storage: Storage) -> None:
    record, _ = await storage.keys.create("k", token_budget=100)
    late = datetime.now(UTC) - timedelta(hours=1)
    early = late - timedelta(hours=1)
    await storage.keys.add_tokens_used(record.id, 30, used_at=late)
    await storage.keys.add_tokens_used(record.id, 12, used_at=early)  # a late batch must not move it back
    updated = await storage.keys.get(record.id)
    assert updated is not None
    assert updated.tokens_used == 42
    assert updated.last_used_at == late
    await storage.keys.add_tokens_used(record.id, 1)
    newest = await storage.keys.get(record.id)
    assert newest is not None and newest.last_used_at is not None and newest.last_used_at > late


async def test_records_are_frozen(storage: Storage) -> None:
    record, _ = await storage.keys.create("k")
    with pytest.raises(AttributeError):
        record.name = "other"  # type: ignore[misc]
