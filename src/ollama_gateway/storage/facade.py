"""The `Storage` facade: one database, migrated on open, with every store built on it."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from ollama_gateway.storage.audit import AuditStore
from ollama_gateway.storage.changes import ChangeStore
from ollama_gateway.storage.counters import CounterStore
from ollama_gateway.storage.database import Database
from ollama_gateway.storage.hosts import HostStore
from ollama_gateway.storage.keys import KeyStore
from ollama_gateway.storage.kv import SettingsStore
from ollama_gateway.storage.login_attempts import LoginAttemptStore
from ollama_gateway.storage.models import ModelStore
from ollama_gateway.storage.schema import migrate_engine
from ollama_gateway.storage.usage import UsageStore


class Storage:
    """Every store over one database; close it once to release its connections."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.keys = KeyStore(database.engine)
        self.models = ModelStore(database.engine)
        self.usage = UsageStore(database.engine)
        self.kv = SettingsStore(database.engine)
        self.counters = CounterStore(database.engine)
        self.hosts = HostStore(database.engine)
        self.changes = ChangeStore(database.engine)
        self.audit = AuditStore(database.engine)
        self.login_attempts = LoginAttemptStore(database.engine)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.database.dialect

    async def ping(self, wait_seconds: float = 2.0) -> bool:
        """True when the database answers; for readiness checks."""
        return await self.database.ping(wait_seconds)

    async def close(self) -> None:
        """Release every pooled connection."""
        await self.database.close()

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def open_storage(url: str, *, migrate: bool = True, **engine_options: Any) -> Storage:
    """Open the database at `url` (plain or async form), bring its schema up to date, and build the stores."""
    database = Database.from_url(url, **engine_options)
    try:
        if migrate:
            await migrate_engine(database.engine)
    except BaseException:
        await database.close()
        raise
    return Storage(database)
