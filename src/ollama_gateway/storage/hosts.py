"""The Ollama hosts added from the admin UI or the CLI, shared by every replica through the database; every
change moves the `hosts` change marker, so running gateways apply it within a second."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.errors import ConflictError, InvalidRequestError, NotFoundError
from ollama_gateway.storage.changes import note_change
from ollama_gateway.storage.sql import utc_now
from ollama_gateway.storage.tables import ollama_hosts

EDITABLE = ("name", "weight", "priority", "max_concurrent", "auth_header", "enabled", "draining")


@dataclass(frozen=True, slots=True, kw_only=True)
class HostRecord:
    """One stored host."""

    id: str
    url: str
    name: str | None
    weight: int
    priority: int
    max_concurrent: int | None
    auth_header: str | None = field(repr=False)
    enabled: bool
    draining: bool
    created_at: datetime
    updated_at: datetime


def check_host_url(raw: Any) -> str:
    """An http(s) URL with a host and no trailing slash; else a 400."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidRequestError("the host URL is required", param="url")
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError("the host URL must look like http://host:11434", param="url")
    return url


def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The editable fields, type-checked; unknown names are a 400."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidRequestError(f"unknown host fields: {', '.join(unknown)}", param=unknown[0])
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("weight", "max_concurrent", "priority"):
            low = -1000 if name == "priority" else 1
            if value is None and name == "max_concurrent":
                out[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 10_000:
                raise InvalidRequestError(f"{name} must be an integer from {low} to 10000", param=name)
        elif name in ("enabled", "draining"):
            if not isinstance(value, bool):
                raise InvalidRequestError(f"{name} must be true or false", param=name)
        elif value is not None and (not isinstance(value, str) or len(value) > 1000):
            raise InvalidRequestError(f"{name} must be a string", param=name)
        out[name] = value or None if name in ("name", "auth_header") else value
    return out


class HostStore:
    """CRUD over the `ollama_hosts` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list(self) -> list[HostRecord]:
        """Every stored host, oldest first."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(sa.select(ollama_hosts).order_by(ollama_hosts.c.created_at))
            return [_record(row) for row in rows.mappings()]

    async def add(self, url: str, **fields: Any) -> HostRecord:
        """Store a new host; 409 when its URL is already stored."""
        values = {**check_fields(fields), "url": check_host_url(url)}
        now = utc_now()
        row = {"id": "host_" + secrets.token_hex(6), "created_at": now, "updated_at": now, **values}
        try:
            async with self._engine.begin() as connection:
                await connection.execute(sa.insert(ollama_hosts).values(**row))
                await note_change(connection, "hosts")
        except IntegrityError as exc:
            raise ConflictError(f"a host with URL {values['url']} is already stored") from exc
        return await self.get(row["id"])

    async def get(self, ref: str) -> HostRecord:
        """A host by id, name or URL; 404 when none."""
        query = sa.select(ollama_hosts).where(
            sa.or_(ollama_hosts.c.id == ref, ollama_hosts.c.name == ref, ollama_hosts.c.url == ref.rstrip("/"))
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            raise NotFoundError(f"no stored host '{ref}'", param="host")
        return _record(row)

    async def update(self, ref: str, **fields: Any) -> HostRecord:
        """Change a host's editable fields."""
        record = await self.get(ref)
        values = check_fields(fields)
        if values:
            statement = sa.update(ollama_hosts).where(ollama_hosts.c.id == record.id)
            async with self._engine.begin() as connection:
                await connection.execute(statement.values(**values, updated_at=utc_now()))
                await note_change(connection, "hosts")
        return await self.get(record.id)

    async def remove(self, ref: str) -> HostRecord:
        """Delete a stored host; returns what it was."""
        record = await self.get(ref)
        async with self._engine.begin() as connection:
            await connection.execute(sa.delete(ollama_hosts).where(ollama_hosts.c.id == record.id))
            await note_change(connection, "hosts")
        return record


def _record(row: RowMapping) -> HostRecord:
    return HostRecord(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        weight=row["weight"],
        priority=row["priority"],
        max_concurrent=row["max_concurrent"],
        auth_header=row["auth_header"],
        enabled=bool(row["enabled"]),
        draining=bool(row["draining"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
