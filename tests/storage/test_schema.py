"""Migrations: applied from empty, idempotent, and in step with the tables the code uses."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ollama_gateway.storage import Storage, create_engine, migrate, open_storage
from ollama_gateway.storage.schema import current_revision, head_revision
from ollama_gateway.storage.sql import UTCDateTime, upsert
from ollama_gateway.storage.tables import metadata

TABLES = {"alembic_version", *metadata.tables}


def _table_names(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrate_creates_every_table_from_empty(storage_url: str) -> None:
    engine = create_engine(storage_url)
    try:
        assert await current_revision(engine) is None
        await migrate(storage_url)
        async with engine.connect() as connection:
            assert await connection.run_sync(_table_names) == TABLES
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_migrating_twice_is_a_no_op(storage_url: str) -> None:
    await migrate(storage_url)
    async with await open_storage(storage_url) as storage:
        await storage.kv.set("kept", "yes")
    await migrate(storage_url)
    async with await open_storage(storage_url) as storage:
        assert await storage.kv.get("kept") == "yes"
        async with storage.database.engine.connect() as connection:
            versions = (await connection.execute(sa.text("SELECT version_num FROM alembic_version"))).all()
    assert versions == [(head_revision(),)]


async def test_migrations_match_the_tables_the_code_uses(storage: Storage) -> None:
    async with storage.database.engine.connect() as connection:
        assert await connection.run_sync(_schema_diff) == []


async def test_sqlite_file_parent_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "gateway.db"
    async with await open_storage(f"sqlite:///{path}") as storage:
        assert await storage.ping()
    assert path.is_file()


async def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    async with storage, storage.database.engine.connect() as connection:
        mode = (await connection.execute(sa.text("PRAGMA journal_mode"))).scalar_one()
        timeout = (await connection.execute(sa.text("PRAGMA busy_timeout"))).scalar_one()
    assert mode == "wal"
    assert timeout >= 1000


async def test_in_memory_sqlite_shares_one_database() -> None:
    async with await open_storage("sqlite+aiosqlite://") as storage:
        await storage.kv.set("a", "1")
        assert await storage.kv.get("a") == "1"


async def test_ping_reports_an_unreachable_database(tmp_path: Path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'g.db'}")
    async with storage:
        assert await storage.ping()
    unreachable = Storage(storage.database.__class__.from_url("postgresql://nobody@127.0.0.1:1/none"))
    try:
        assert not await unreachable.ping(wait_seconds=5)
    finally:
        await unreachable.close()


def test_unsupported_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        create_engine("mysql+aiomysql://u@h/db")
    with pytest.raises(NotImplementedError):
        upsert("mysql", metadata.tables["settings"])


def test_timestamps_must_carry_a_zone() -> None:
    column_type = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        column_type.process_bind_param(datetime(2026, 1, 1), sqlite.dialect())
    aware = datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert column_type.process_bind_param(aware, postgresql.dialect()) == aware
    assert column_type.process_bind_param(aware, sqlite.dialect()) == datetime(2026, 1, 1, 0)


async def test_concurrent_migrations_in_one_process_are_serialised(storage_url: str) -> None:
    # Alembic's environment is a module global: in one process, migrations must take turns.
    await asyncio.gather(*(migrate(storage_url) for _ in range(4)))
    async with await open_storage(storage_url) as storage:
        assert await current_revision(storage.database.engine) == head_revision()


async def test_concurrent_migrations_in_separate_processes_agree(storage_url: str) -> None:
    script = "import asyncio, sys; from ollama_gateway.storage import migrate; asyncio.run(migrate(sys.argv[1]))"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, storage_url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outcomes = [await process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], [err.decode()[-2000:] for _, err in outcomes]
    async with await open_storage(storage_url) as storage:
        assert await current_revision(storage.database.engine) == head_revision()
