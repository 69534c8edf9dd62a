"""Usage records: one row per request, written in batches, read back filtered, summarised and bucketed."""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.storage.bulk import BulkInsert
from ollama_gateway.storage.sql import epoch_seconds, require_aware, utc_day
from ollama_gateway.storage.tables import usage

# A request counts as an error when the gateway answered with a client or server error status.
ERROR_STATUS = 400


# Not frozen: one is built per request, and a frozen init calls object.__setattr__ once per field.
@dataclass(slots=True, kw_only=True)
class UsageRecord:
    """What one request cost and how it went; `id` is set once stored."""

    created_at: datetime
    key_id: str | None
    model_requested: str
    model_upstream: str
    endpoint: str
    status: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    ttft_ms: int | None = None
    stream: bool = False
    task_id: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    error: str | None = None
    id: int | None = None

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageSummaryRow:
    """Totals for one key, requested model and UTC day."""

    key_id: str | None
    model: str
    day: date
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    avg_latency_ms: float

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


LATENCY_SAMPLE_LIMIT = 200_000  # percentiles are computed in Python over at most this many newest rows


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageBucket:
    """Totals for one time bucket starting at `start` (UTC)."""

    start: datetime
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    avg_latency_ms: float

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


_FIELDS = [f.name for f in dataclasses.fields(UsageRecord) if f.name != "id"]
_values = operator.attrgetter(*_FIELDS)  # a record's stored values, in _FIELDS order, as one tuple


def _row_values(record: UsageRecord) -> tuple[Any, ...]:
    require_aware(record.created_at, "created_at")
    return _values(record)


def _record(row: RowMapping) -> UsageRecord:
    return UsageRecord(id=row["id"], **{name: row[name] for name in _FIELDS})


def _filters(
    *,
    since: datetime | None,
    until: datetime | None,
    key_id: str | None,
    model: str | None,
    endpoint: str | None,
    status: int | None,
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses shared by every reader; `since` is inclusive, `until` exclusive."""
    clauses: list[sa.ColumnElement[bool]] = []
    if since is not None:
        clauses.append(usage.c.created_at >= require_aware(since, "since"))
    if until is not None:
        clauses.append(usage.c.created_at < require_aware(until, "until"))
    if key_id is not None:
        clauses.append(usage.c.key_id == key_id)
    if model is not None:
        clauses.append(sa.or_(usage.c.model_requested == model, usage.c.model_upstream == model))
    if endpoint is not None:
        clauses.append(usage.c.endpoint == endpoint)
    if status is not None:
        clauses.append(usage.c.status == status)
    return clauses


def _sum(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(column), 0)


_ERRORS = _sum(sa.case((usage.c.status >= ERROR_STATUS, 1), else_=0))
_AVG_LATENCY = sa.func.avg(usage.c.latency_ms)


class UsageStore:
    """Writes usage in batches and answers the questions the admin pages and CLI ask of it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert = BulkInsert(usage, _FIELDS, engine.dialect)

    async def insert_many(self, records: Sequence[UsageRecord]) -> int:
        """Store a batch of records in one transaction; returns how many were written."""
        if not records:
            return 0
        rows = [_row_values(record) for record in records]
        async with self._engine.begin() as connection:
            await self._insert.run(connection, rows)
        return len(rows)

    async def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        key_id: str | None = None,
        model: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[UsageRecord]:
        """Matching records, newest first; `model` matches the requested or the upstream name."""
        if limit < 0 or offset < 0:
            raise InvalidRequestError("limit and offset must not be negative", param="limit" if limit < 0 else "offset")
        where = _filters(since=since, until=until, key_id=key_id, model=model, endpoint=endpoint, status=status)
        query = (
            sa.select(usage)
            .where(*where)
            .order_by(usage.c.created_at.desc(), usage.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self._engine.connect() as connection:
            return [_record(row) for row in (await connection.execute(query)).mappings()]

    async def count(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        key_id: str | None = None,
        model: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
    ) -> int:
        """How many records `query` would find without a limit."""
        where = _filters(since=since, until=until, key_id=key_id, model=model, endpoint=endpoint, status=status)
        query = sa.select(sa.func.count()).select_from(usage).where(*where)
        async with self._engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def summary(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        key_id: str | None = None,
        model: str | None = None,
        endpoint: str | None = None,
    ) -> list[UsageSummaryRow]:
        """Totals per key, requested model and UTC day; newest day first."""
        where = _filters(since=since, until=until, key_id=key_id, model=model, endpoint=endpoint, status=None)
        day = utc_day(usage.c.created_at)
        query = (
            sa.select(
                usage.c.key_id,
                usage.c.model_requested,
                day.label("day"),
                sa.func.count().label("requests"),
                _ERRORS.label("errors"),
                _sum(usage.c.prompt_tokens).label("prompt_tokens"),
                _sum(usage.c.completion_tokens).label("completion_tokens"),
                _AVG_LATENCY.label("avg_latency_ms"),
            )
            .where(*where)
            .group_by(usage.c.key_id, usage.c.model_requested, day)
            .order_by(day.desc(), usage.c.key_id, usage.c.model_requested)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            UsageSummaryRow(
                key_id=row["key_id"],
                model=row["model_requested"],
                day=date.fromisoformat(row["day"]),
                requests=int(row["requests"]),
                errors=int(row["errors"]),
                prompt_tokens=int(row["prompt_tokens"]),
                completion_tokens=int(row["completion_tokens"]),
                avg_latency_ms=float(row["avg_latency_ms"] or 0),
            )
            for row in rows
        ]

    async def latencies(
        self,
        since: datetime,
        *,
        until: datetime | None = None,
        key_id: str | None = None,
        model: str | None = None,
        limit: int = LATENCY_SAMPLE_LIMIT,
    ) -> list[tuple[datetime, int, int | None]]:
        """(time, latency ms, time to first token ms) of the newest `limit` successful requests, for percentiles."""
        where = _filters(since=since, until=until, key_id=key_id, model=model, endpoint=None, status=None)
        query = (
            sa.select(usage.c.created_at, usage.c.latency_ms, usage.c.ttft_ms)
            .where(*where, usage.c.status < 400)
            .order_by(usage.c.created_at.desc())
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [(row[0], int(row[1]), None if row[2] is None else int(row[2])) for row in rows]

    async def timeseries(
        self,
        since: datetime,
        bucket_seconds: int,
        *,
        until: datetime | None = None,
        key_id: str | None = None,
        model: str | None = None,
        endpoint: str | None = None,
    ) -> list[UsageBucket]:
        """Totals per `bucket_seconds`-wide bucket (aligned to the Unix epoch), oldest first; empty buckets omitted."""
        if bucket_seconds < 1:
            raise InvalidRequestError("bucket_seconds must be at least 1", param="bucket_seconds")
        where = _filters(since=since, until=until, key_id=key_id, model=model, endpoint=endpoint, status=None)
        # An inlined integer, not a bound parameter, so SELECT and GROUP BY hold the very same expression.
        width = sa.literal_column(str(int(bucket_seconds)), sa.BigInteger())
        bucket = (epoch_seconds(usage.c.created_at) // width) * width
        query = (
            sa.select(
                bucket.label("bucket"),
                sa.func.count().label("requests"),
                _ERRORS.label("errors"),
                _sum(usage.c.prompt_tokens).label("prompt_tokens"),
                _sum(usage.c.completion_tokens).label("completion_tokens"),
                _AVG_LATENCY.label("avg_latency_ms"),
            )
            .where(*where)
            .group_by(bucket)
            .order_by(bucket)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [
            UsageBucket(
                start=datetime.fromtimestamp(int(row["bucket"]), UTC),
                requests=int(row["requests"]),
                errors=int(row["errors"]),
                prompt_tokens=int(row["prompt_tokens"]),
                completion_tokens=int(row["completion_tokens"]),
                avg_latency_ms=float(row["avg_latency_ms"] or 0),
            )
            for row in rows
        ]

    async def prune(self, older_than: datetime) -> int:
        """Delete records created before `older_than`; returns how many went."""
        statement = sa.delete(usage).where(usage.c.created_at < require_aware(older_than, "older_than"))
        async with self._engine.begin() as connection:
            return int((await connection.execute(statement)).rowcount)
