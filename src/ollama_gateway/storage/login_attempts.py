"""Admin login attempts per scope (an address, or every address) and fixed window, shared by every worker."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.storage.sql import upsert
from ollama_gateway.storage.tables import login_attempts


class LoginAttemptStore:
    """Counts attempts with one atomic upsert each, so concurrent logins in any process are all counted."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def hit(self, scopes: list[str], window_start: int) -> list[int]:
        """Add one attempt to each scope's window (in one transaction); the new counts, in order."""
        counts: list[int] = []
        async with self._engine.begin() as connection:
            for scope in scopes:
                insert = upsert(connection.dialect.name, login_attempts).values(
                    scope=scope, window_start=window_start, count=1
                )
                statement = insert.on_conflict_do_update(
                    index_elements=[login_attempts.c.scope, login_attempts.c.window_start],
                    set_={"count": login_attempts.c["count"] + 1},
                ).returning(login_attempts.c["count"])
                counts.append(int((await connection.execute(statement)).scalar_one()))
        return counts

    async def forget(self, scope: str) -> None:
        """Drop every window of one scope (after a correct password from that address)."""
        async with self._engine.begin() as connection:
            await connection.execute(sa.delete(login_attempts).where(login_attempts.c.scope == scope))

    async def clear(self) -> int:
        """Drop every count, lifting all lockouts; returns how many windows went."""
        async with self._engine.begin() as connection:
            return int((await connection.execute(sa.delete(login_attempts))).rowcount)

    async def active(self, since: int) -> dict[str, int]:
        """Attempts per scope in windows starting at or after `since`."""
        query = (
            sa.select(login_attempts.c.scope, sa.func.sum(login_attempts.c["count"]))
            .where(login_attempts.c.window_start >= since)
            .group_by(login_attempts.c.scope)
        )
        async with self._engine.connect() as connection:
            return {scope: int(total) for scope, total in (await connection.execute(query)).all()}

    async def seen(self, scope: str, since: int) -> bool:
        """Whether `scope` has a window starting at or after `since`."""
        query = sa.select(sa.literal(1)).where(login_attempts.c.scope == scope, login_attempts.c.window_start >= since)
        async with self._engine.connect() as connection:
            return (await connection.execute(query.limit(1))).first() is not None

    async def prune(self, before: int, *, markers_before: int | None = None) -> int:
        """Delete attempt windows that started before `before` (`good:` markers before `markers_before`)."""
        is_marker = login_attempts.c.scope.startswith("good:")
        condition = sa.and_(~is_marker, login_attempts.c.window_start < before)
        if markers_before is not None:
            condition = sa.or_(condition, sa.and_(is_marker, login_attempts.c.window_start < markers_before))
        async with self._engine.begin() as connection:
            return int((await connection.execute(sa.delete(login_attempts).where(condition))).rowcount)
