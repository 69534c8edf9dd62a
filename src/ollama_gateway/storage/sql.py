"""SQL pieces that must read the same on SQLite and PostgreSQL: UTC timestamps, upserts, time buckets."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from ollama_gateway.errors import InvalidRequestError


class Unset(Enum):
    """Marks an update argument that was not given (None is a real value: it clears the field)."""

    UNSET = "unset"


UNSET = Unset.UNSET


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def require_aware(value: datetime | None, param: str) -> datetime | None:
    """Reject naive datetimes: a stored instant must not depend on the server's local zone."""
    if value is not None and value.utcoffset() is None:
        raise InvalidRequestError(f"{param} must be timezone-aware", param=param)
    return value


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on either engine."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; SQLite keeps no zone, so it stores the naive UTC wall time."""
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what SQLite returns naive; convert what PostgreSQL returns."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upsert(dialect_name: str, table: sa.Table) -> Any:
    """An INSERT that understands ON CONFLICT on the given engine (both share SQLAlchemy's API)."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect: {dialect_name}")


class epoch_seconds(sa.sql.functions.FunctionElement[int]):
    """Whole seconds since the Unix epoch of a UTC timestamp column."""

    type = sa.BigInteger()
    inherit_cache = True


class utc_day(sa.sql.functions.FunctionElement[str]):
    """The UTC calendar day (`YYYY-MM-DD`) of a timestamp column."""

    type = sa.String()
    inherit_cache = True


# Rendered without bound parameters so the same expression may appear in SELECT and GROUP BY:
# PostgreSQL treats `f($1)` and `f($2)` as different expressions even when the values match.
@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(utc_day, "sqlite")
def _day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m-%d', {compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
