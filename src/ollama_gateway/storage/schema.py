"""Applying the packaged Alembic migrations in code, with no alembic.ini needed at runtime."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.storage.database import create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Alembic keeps its running environment in a module global, so two migrations must never interleave
# in one process; across processes the database's own lock (see migrations/env.py) serialises them.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _process_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR.as_posix())
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision shipped with this version of the gateway."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migrate_engine(engine: AsyncEngine) -> None:
    """Bring the database behind `engine` up to the newest revision (a no-op when it already is)."""
    async with _process_lock(), engine.connect() as connection:
        await connection.run_sync(_upgrade)
        await connection.commit()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def migrate(url: str) -> None:
    """Run `alembic upgrade head` against the database at `url`."""
    engine = create_engine(url)
    try:
        await migrate_engine(engine)
    finally:
        await engine.dispose()
