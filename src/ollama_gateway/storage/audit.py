"""The audit log: every admin change (who, when, what, from where), kept as long as usage records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.storage.sql import utc_now
from ollama_gateway.storage.tables import audit_log

MAX_LIST = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One recorded admin action."""

    id: int
    created_at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any] | None
    client_ip: str | None


class AuditStore:
    """Append and read audit entries."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        client_ip: str | None = None,
    ) -> None:
        """Append one entry (`action` such as `key.create`, `login.failed`; `detail` a small JSON object)."""
        values = {
            "created_at": utc_now(),
            "actor": actor[:200],
            "action": action[:100],
            "target": None if target is None else target[:300],
            "detail": detail if detail else sa.null(),
            "client_ip": None if client_ip is None else client_ip[:64],
        }
        async with self._engine.begin() as connection:
            await connection.execute(audit_log.insert().values(values))

    async def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        action: str | None = None,
        since: datetime | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `action` matches exactly or as a prefix ending in `.` (`key.` → every key action)."""
        query = sa.select(audit_log).order_by(audit_log.c.created_at.desc(), audit_log.c.id.desc())
        if action:
            if action.endswith("."):
                query = query.where(audit_log.c.action.startswith(action, autoescape=True))
            else:
                query = query.where(audit_log.c.action == action)
        if since is not None:
            query = query.where(audit_log.c.created_at >= since)
        query = query.limit(max(1, min(limit, MAX_LIST))).offset(max(0, offset))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [AuditEntry(**dict(row)) for row in rows]

    async def prune(self, before: datetime) -> int:
        """Delete entries older than `before`; returns how many went."""
        async with self._engine.begin() as connection:
            result = await connection.execute(sa.delete(audit_log).where(audit_log.c.created_at < before))
            return int(result.rowcount)
