"""Change markers for caches in other processes: a row per topic in `settings`, rewritten by every change.

A writer calls `note_change` inside its own transaction, so the marker commits with the change. Readers poll
`ChangeStore.versions` (one indexed query) and, on PostgreSQL, may also LISTEN on `CHANNEL`, which
`note_change` notifies at commit.
"""

from __future__ import annotations

import uuid
from typing import Final, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ollama_gateway.storage.sql import upsert, utc_now
from ollama_gateway.storage.tables import settings

Topic = Literal["keys", "models", "settings", "hosts"]
TOPICS: Final[tuple[Topic, ...]] = ("keys", "models", "settings", "hosts")
PREFIX: Final = "change."
CHANNEL: Final = "ollama_gateway_changes"


async def note_change(connection: AsyncConnection, topic: Topic) -> None:
    """Rewrite `topic`'s marker (a fresh random value) in the caller's transaction; NOTIFY on PostgreSQL."""
    dialect = connection.dialect.name
    insert = upsert(dialect, settings).values(name=PREFIX + topic, value=uuid.uuid4().hex, updated_at=utc_now())
    await connection.execute(
        insert.on_conflict_do_update(
            index_elements=[settings.c.name],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )
    )
    if dialect == "postgresql":
        await connection.execute(sa.select(sa.func.pg_notify(CHANNEL, topic)))


class ChangeStore:
    """Reads and writes the change markers."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def versions(self) -> dict[str, str]:
        """Every topic's current marker (absent topics have never changed)."""
        names = [PREFIX + topic for topic in TOPICS]
        query = sa.select(settings.c.name, settings.c.value).where(settings.c.name.in_(names))
        async with self._engine.connect() as connection:
            rows = await connection.execute(query)
            return {name.removeprefix(PREFIX): value for name, value in rows}

    async def note(self, topic: Topic) -> None:
        """Mark `topic` changed in a transaction of its own (for changes not made through a store)."""
        async with self._engine.begin() as connection:
            await note_change(connection, topic)
