"""Named string settings kept in the database: the admin password hash, the session secret, runtime knobs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.storage.sql import upsert, utc_now
from ollama_gateway.storage.tables import settings


class SettingsStore:
    """A small key-value store; values are strings (encode anything richer as JSON)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, name: str) -> str | None:
        """The value stored under `name`, or None."""
        query = sa.select(settings.c.value).where(settings.c.name == name)
        async with self._engine.connect() as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    async def get_all(self) -> dict[str, str]:
        """Every stored setting."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(sa.select(settings.c.name, settings.c.value).order_by(settings.c.name))
            return {name: value for name, value in rows}

    async def set(self, name: str, value: str) -> None:
        """Store `value` under `name`, replacing any earlier value."""
        async with self._engine.begin() as connection:
            insert = upsert(connection.dialect.name, settings).values(name=name, value=value, updated_at=utc_now())
            statement = insert.on_conflict_do_update(
                index_elements=[settings.c.name],
                set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
            )
            await connection.execute(statement)

    async def set_default(self, name: str, value: str) -> str:
        """Store `value` only if nothing is stored yet; returns whichever value is stored (safe across replicas)."""
        async with self._engine.begin() as connection:
            insert = upsert(connection.dialect.name, settings).values(name=name, value=value, updated_at=utc_now())
            await connection.execute(insert.on_conflict_do_nothing(index_elements=[settings.c.name]))
            query = sa.select(settings.c.value).where(settings.c.name == name)
            return str((await connection.execute(query)).scalar_one())

    async def delete(self, name: str) -> bool:
        """Remove a setting; True if there was one."""
        async with self._engine.begin() as connection:
            result = await connection.execute(sa.delete(settings).where(settings.c.name == name))
            return bool(result.rowcount)
