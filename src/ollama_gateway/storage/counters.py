"""Fixed-window rate counters shared by every process and replica through the database."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.storage.sql import upsert
from ollama_gateway.storage.tables import rate_counters


class CounterStore:
    """Counts per (bucket, window start); each `hit` is one atomic upsert, so concurrent callers never lose a count."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def hit(self, bucket: str, window_start: int, amount: int = 1) -> int:
        """Add `amount` to the window's count and return the new count."""
        async with self._engine.begin() as connection:
            insert = upsert(connection.dialect.name, rate_counters).values(
                bucket=bucket, window_start=window_start, count=amount
            )
            statement = insert.on_conflict_do_update(
                index_elements=[rate_counters.c.bucket, rate_counters.c.window_start],
                set_={"count": rate_counters.c["count"] + insert.excluded["count"]},
            ).returning(rate_counters.c["count"])
            return int((await connection.execute(statement)).scalar_one())

    async def get(self, bucket: str, window_start: int) -> int:
        """The window's count so far (0 when never hit)."""
        query = sa.select(rate_counters.c["count"]).where(
            rate_counters.c.bucket == bucket, rate_counters.c.window_start == window_start
        )
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one_or_none() or 0)

    async def prune(self, before: int) -> int:
        """Delete every window that started before `before`; returns how many went."""
        statement = sa.delete(rate_counters).where(rate_counters.c.window_start < before)
        async with self._engine.begin() as connection:
            return int((await connection.execute(statement)).rowcount)
