"""Engines and the `Database` handle: built on demand from a URL, never at import time."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from ollama_gateway.errors import DependencyUnavailableError
from ollama_gateway.settings import to_async_url

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
DATABASE_RETRY_AFTER_SECONDS = 2


def _map_outage(context: ExceptionContext) -> None:
    """The one place database outages become a typed error: DependencyUnavailableError (503 + Retry-After).

    Unreachable servers, dropped connections and locks held past the busy timeout are outages; constraint
    violations and bad SQL are not, and keep their own exception (a bug is a 500, not a retry).
    """
    error = context.sqlalchemy_exception
    original = context.original_exception
    if not isinstance(original, Exception):
        return  # a cancelled task (CancelledError) or an exit: never turn it into an error the caller may swallow
    outage = context.is_disconnect or isinstance(error, OperationalError | InterfaceError)
    outage = outage or isinstance(original, OSError | ConnectionError | TimeoutError)
    if outage:
        raise _unavailable(original)


def _connect_mapped(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Open the DBAPI connection ourselves: a refused connect (a bare OSError from asyncpg) is an outage too."""
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        raise _unavailable(exc) from exc


def _unavailable(original: BaseException) -> DependencyUnavailableError:
    log.warning("database unavailable: %s: %s", type(original).__name__, original)
    return DependencyUnavailableError(
        "the database is unavailable; retry shortly", retry_after=DATABASE_RETRY_AFTER_SECONDS
    )


def _watch_outages(engine: AsyncEngine) -> None:
    event.listen(engine.sync_engine, "handle_error", _map_outage)
    event.listen(engine.sync_engine, "do_connect", _connect_mapped)


def _is_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database


def _prepare_sqlite_path(url: URL) -> None:
    """Create the database file's parent directory, so a fresh data dir just works."""
    if _is_memory(url) or (url.database or "").startswith("file:"):
        return
    Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_connect_hook(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        _on_sqlite_connect(dbapi_connection, busy_timeout_ms)

    return on_connect


def _on_sqlite_connect(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    # WAL lets readers run alongside the single writer; the busy timeout makes concurrent writers
    # (other connections, other processes) wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine for `sqlite+aiosqlite://` or `postgresql+asyncpg://` (plain URLs are converted)."""
    parsed = make_url(to_async_url(url))
    backend = parsed.get_backend_name()
    busy_timeout_ms = int(options.pop("busy_timeout_ms", SQLITE_BUSY_TIMEOUT_MS))
    if backend == "sqlite":
        _prepare_sqlite_path(parsed)
        if _is_memory(parsed):
            # Each new connection to :memory: would be a new, empty database: share one.
            options.setdefault("poolclass", StaticPool)
        engine = create_async_engine(parsed, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_connect_hook(busy_timeout_ms))
        _watch_outages(engine)
        return engine
    if backend == "postgresql":
        options.setdefault("pool_pre_ping", True)
        engine = create_async_engine(parsed, **options)
        _watch_outages(engine)
        return engine
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


class Database:
    """An engine with its session factory; `close()` disposes of every pooled connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Database:
        """A database for `url`; nothing connects until first use."""
        return cls(create_engine(url, **options))

    @property
    def dialect(self) -> str:
        """The engine's dialect name: `sqlite` or `postgresql`."""
        return self.engine.dialect.name

    async def ping(self, wait_seconds: float = 2.0) -> bool:
        """True when the database answers a trivial query within `wait_seconds`."""
        try:
            async with asyncio.timeout(wait_seconds), self.engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except Exception as exc:  # readiness: any failure at all means "not ready"
            log.warning("database ping failed: %s: %s", exc.__class__.__name__, exc)
            return False
        return True

    async def close(self) -> None:
        """Dispose of the engine's connections."""
        await self.engine.dispose()
