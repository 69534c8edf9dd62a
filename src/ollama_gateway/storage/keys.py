"""API keys: created with a one-time secret, stored only as a SHA-256 hash, verified by hash lookup."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.storage.changes import note_change
from ollama_gateway.storage.sql import UNSET, Unset, UTCDateTime, require_aware, utc_now
from ollama_gateway.storage.tables import api_keys

SECRET_PREFIX = "sk-og-"  # noqa: S105 - the public marker of a key, not a secret
# 30 random bytes → 40 URL-safe characters (240 bits): far beyond guessing, so a fast hash is enough.
_SECRET_BYTES = 30
DISPLAY_PREFIX_LENGTH = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRecord:
    """One API key as callers see it; the secret itself is never kept."""

    id: str
    name: str
    prefix: str
    models: tuple[str, ...] | None  # None: every model
    rpm: int | None
    tpm: int | None
    token_budget: int | None
    tokens_used: int
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None
    budget_period: str | None = None  # daily | weekly | monthly; None: the budget is a lifetime total
    budget_period_start: datetime | None = None  # start of the period `tokens_used` counts
    previous_secret_expires_at: datetime | None = None  # a rotated-out secret still works until then

    @property
    def revoked(self) -> bool:
        """True once the key has been revoked."""
        return self.revoked_at is not None

    def expired(self, now: datetime) -> bool:
        """True when the key has an expiry and `now` is at or past it."""
        return self.expires_at is not None and now >= self.expires_at

    def allows_model(self, model: str) -> bool:
        """True when the key may use `model` (by the name the policy resolved it to)."""
        return self.models is None or model in self.models


def hash_secret(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    """A fresh key secret: `sk-og-` followed by 40 URL-safe random characters."""
    return SECRET_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def new_key_id() -> str:
    """A short random public id for a key."""
    return "key_" + secrets.token_hex(6)


def _check_limit(value: int | None, param: str) -> int | None:
    if value is not None and value < 0:
        raise InvalidRequestError(f"{param} must not be negative", param=param)
    return value


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidRequestError("a key needs a name", param="name")
    return name


def _models_value(models: Sequence[str] | None) -> Any:
    # A JSON column would store Python None as JSON null; SQL NULL is what "all models" means.
    return sa.null() if models is None else list(dict.fromkeys(models))


def _timestamp(value: datetime) -> Any:
    return sa.literal(value, type_=UTCDateTime())


def _record(row: RowMapping) -> KeyRecord:
    models = row["models"]
    return KeyRecord(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        models=None if models is None else tuple(models),
        rpm=row["rpm"],
        tpm=row["tpm"],
        token_budget=row["token_budget"],
        tokens_used=row["tokens_used"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        budget_period=row["budget_period"],
        budget_period_start=row["budget_period_start"],
        previous_secret_expires_at=row["previous_secret_expires_at"],
    )


_SECRET_COLUMNS = {"secret_hash", "previous_secret_hash"}
_PUBLIC_COLUMNS = [column for column in api_keys.c if column.name not in _SECRET_COLUMNS]
BUDGET_PERIODS = ("daily", "weekly", "monthly")


def _check_period(period: str | None) -> str | None:
    if period is not None and period not in BUDGET_PERIODS:
        raise InvalidRequestError("budget_period must be daily, weekly, monthly or empty", param="budget_period")
    return period


class KeyStore:
    """Create, list, update, revoke and verify API keys."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        name: str,
        *,
        models: Sequence[str] | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        token_budget: int | None = None,
        expires_at: datetime | None = None,
        budget_period: str | None = None,
    ) -> tuple[KeyRecord, str]:
        """Create a key; returns its record and the secret, which is shown this once and never stored."""
        secret = new_secret()
        values = {
            "id": new_key_id(),
            "name": _check_name(name),
            "prefix": secret[:DISPLAY_PREFIX_LENGTH],
            "secret_hash": hash_secret(secret),
            "models": _models_value(models),
            "rpm": _check_limit(rpm, "rpm"),
            "tpm": _check_limit(tpm, "tpm"),
            "token_budget": _check_limit(token_budget, "token_budget"),
            "tokens_used": 0,
            "expires_at": require_aware(expires_at, "expires_at"),
            "created_at": utc_now(),
            "budget_period": _check_period(budget_period),
        }
        async with self._engine.begin() as connection:
            row = (await connection.execute(api_keys.insert().values(values).returning(*_PUBLIC_COLUMNS))).one()
        return _record(row._mapping), secret

    async def list(self, *, include_revoked: bool = True) -> list[KeyRecord]:
        """Every key, oldest first."""
        query = sa.select(*_PUBLIC_COLUMNS).order_by(api_keys.c.created_at, api_keys.c.id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [_record(row) for row in rows]

    async def get(self, key_id: str) -> KeyRecord | None:
        """The key with this id, or None."""
        query = sa.select(*_PUBLIC_COLUMNS).where(api_keys.c.id == key_id)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().one_or_none()
        return None if row is None else _record(row)

    async def update(
        self,
        key_id: str,
        *,
        name: str | Unset = UNSET,
        models: Sequence[str] | Unset | None = UNSET,
        rpm: int | Unset | None = UNSET,
        tpm: int | Unset | None = UNSET,
        token_budget: int | Unset | None = UNSET,
        tokens_used: int | Unset = UNSET,
        expires_at: datetime | Unset | None = UNSET,
        budget_period: str | Unset | None = UNSET,
    ) -> KeyRecord | None:
        """Change the given fields (None clears a limit); returns the updated key, or None if unknown."""
        values: dict[str, Any] = {}
        if not isinstance(name, Unset):
            values["name"] = _check_name(name)
        if not isinstance(models, Unset):
            values["models"] = _models_value(models)
        for param, limit in (("rpm", rpm), ("tpm", tpm), ("token_budget", token_budget), ("tokens_used", tokens_used)):
            if not isinstance(limit, Unset):
                values[param] = _check_limit(limit, param)
        if not isinstance(expires_at, Unset):
            values["expires_at"] = require_aware(expires_at, "expires_at")
        if not isinstance(budget_period, Unset):
            values["budget_period"] = _check_period(budget_period)
            values["budget_period_start"] = None  # the new period starts counting at the next request
        if not values:
            return await self.get(key_id)
        return await self._update_returning(key_id, values)

    async def revoke(self, key_id: str) -> KeyRecord | None:
        """Revoke the key (keeping the first revocation time); None if unknown."""
        values = {"revoked_at": sa.func.coalesce(api_keys.c.revoked_at, _timestamp(utc_now()))}
        return await self._update_returning(key_id, values)

    async def verify(self, secret: str) -> KeyRecord | None:
        """The live key matching `secret`; None when it is unknown or revoked (expiry is the caller's call)."""
        if not secret.startswith(SECRET_PREFIX):
            return None
        digest = hash_secret(secret)
        query = sa.select(*_PUBLIC_COLUMNS, api_keys.c.secret_hash, api_keys.c.previous_secret_hash).where(
            sa.or_(api_keys.c.secret_hash == digest, api_keys.c.previous_secret_hash == digest)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        record = _record(row)
        if not hmac.compare_digest(row["secret_hash"], digest):
            # The rotated-out secret: valid only until its grace ends.
            grace = record.previous_secret_expires_at
            if grace is None or utc_now() >= grace:
                return None
        return None if record.revoked else record

    async def rotate(self, key_id: str, *, grace_seconds: int = 0) -> tuple[KeyRecord, str] | None:
        """Give the key a new secret (returned once); the old one keeps working for `grace_seconds`, then stops."""
        secret = new_secret()
        values: dict[str, Any] = {
            "prefix": secret[:DISPLAY_PREFIX_LENGTH],
            "secret_hash": hash_secret(secret),
            "previous_secret_hash": api_keys.c.secret_hash if grace_seconds > 0 else sa.null(),
            "previous_secret_expires_at": (
                _timestamp(utc_now() + timedelta(seconds=grace_seconds)) if grace_seconds > 0 else sa.null()
            ),
        }
        record = await self._update_returning(key_id, values, live_only=True)
        return None if record is None else (record, secret)

    async def delete(self, key_id: str) -> bool:
        """Delete the key for good (its usage rows stay, under its id); True if it existed."""
        async with self._engine.begin() as connection:
            result = await connection.execute(sa.delete(api_keys).where(api_keys.c.id == key_id))
            return bool(result.rowcount)

    async def roll_budget_period(self, key_id: str, period_start: datetime) -> bool:
        """Start a new budget period at `period_start` (tokens_used back to 0) unless one already started there."""
        statement = (
            sa.update(api_keys)
            .where(
                api_keys.c.id == key_id,
                sa.or_(
                    api_keys.c.budget_period_start.is_(None),
                    api_keys.c.budget_period_start < _timestamp(period_start),
                ),
            )
            .values(tokens_used=0, budget_period_start=_timestamp(period_start))
        )
        async with self._engine.begin() as connection:
            return bool((await connection.execute(statement)).rowcount)

    async def touch(self, used: dict[str, datetime]) -> None:
        """Note when each key was last used, in one statement (a time never moves backwards)."""
        if not used:
            return
        when = sa.case(
            {key_id: _timestamp(require_aware(at, "used_at") or utc_now()) for key_id, at in used.items()},
            value=api_keys.c.id,
        )
        statement = (
            sa.update(api_keys)
            .where(api_keys.c.id.in_(list(used)))
            .values(
                last_used_at=sa.case(
                    (api_keys.c.last_used_at.is_(None), when),
                    (api_keys.c.last_used_at < when, when),
                    else_=api_keys.c.last_used_at,
                )
            )
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def add_tokens_used(self, key_id: str, tokens: int, *, used_at: datetime | None = None) -> None:
        """Add to a key's running token total and note when it was last used."""
        when = _timestamp(require_aware(used_at, "used_at") or utc_now())
        statement = (
            sa.update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(
                tokens_used=api_keys.c.tokens_used + tokens,
                last_used_at=sa.case(
                    (api_keys.c.last_used_at.is_(None), when),
                    (api_keys.c.last_used_at < when, when),
                    else_=api_keys.c.last_used_at,
                ),
            )
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def _update_returning(
        self, key_id: str, values: dict[str, Any], *, live_only: bool = False
    ) -> KeyRecord | None:
        condition = api_keys.c.id == key_id
        if live_only:
            condition = condition & api_keys.c.revoked_at.is_(None)
        statement = sa.update(api_keys).where(condition).values(values).returning(*_PUBLIC_COLUMNS)
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement)).mappings().one_or_none()
            if row is not None:
                await note_change(connection, "keys")  # other processes drop their cached copy within a second
        return None if row is None else _record(row)
