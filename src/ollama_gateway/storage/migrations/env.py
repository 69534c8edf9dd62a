"""Alembic environment: runs on the connection `storage.schema` hands over, or on `sqlalchemy.url`."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from ollama_gateway.storage.tables import metadata

# Any constant will do; it only has to be the same for every replica migrating the same database.
_PG_MIGRATION_LOCK = 0x6F67_6D69


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables instead
        compare_type=True,
        # SQLite's DDL is transactional inside our BEGIN IMMEDIATE; telling Alembic so keeps every revision in
        # that one locked transaction (otherwise it commits between revisions and a second process, let in by
        # the commit, re-runs a revision the first has already applied).
        transactional_ddl=True,
    )
    with context.begin_transaction():
        # Processes or replicas starting together must not race to create the same tables: the first
        # takes a lock for its whole transaction, the others wait and then find the schema current.
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        elif connection.dialect.name == "sqlite":
            # Also makes SQLite's DDL transactional: the driver would otherwise run each statement on its own.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported; run them against a database")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_from_url(context.config.get_main_option("sqlalchemy.url") or ""))


_main()
