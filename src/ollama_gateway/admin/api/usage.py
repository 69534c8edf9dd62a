"""Admin API for usage: the filtered log as JSON or CSV, and the overview's series and top lists."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ollama_gateway.admin.api.common import plain
from ollama_gateway.admin.guard import api
from ollama_gateway.admin.overview import ollama_state, pick_range, top_lists, usage_series
from ollama_gateway.admin.state import admin_state
from ollama_gateway.admin.usage_filters import UsageFilters, parse_filters, parse_page
from ollama_gateway.storage.usage import UsageRecord, UsageStore
from ollama_gateway.web.context import json_response

CSV_COLUMNS = (
    "created_at",
    "key_id",
    "model_requested",
    "model_upstream",
    "endpoint",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "ttft_ms",
    "stream",
    "task_id",
    "client_ip",
    "user_agent",
    "error",
)
CSV_BATCH = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@api
async def usage_log(request: Request) -> Response:
    """GET /admin/api/usage: `{total, page, limit, records}`, newest first."""
    store = admin_state(request).gateway.storage.usage
    filters = parse_filters(request.query_params)
    number, size = parse_page(request.query_params)
    total = await store.count(**filters.store_args())
    records = await store.query(**filters.store_args(), limit=size, offset=(number - 1) * size)
    return json_response({"total": total, "page": number, "limit": size, "records": plain(records)})


def _cell(value: Any) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    # A leading =, +, - or @ would make a spreadsheet evaluate the cell: neutralise it.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_line(values: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue().encode()


async def _csv_rows(store: UsageStore, filters: UsageFilters) -> AsyncIterator[bytes]:
    yield _csv_line(list(CSV_COLUMNS))
    offset = 0
    while True:
        batch: list[UsageRecord] = await store.query(**filters.store_args(), limit=CSV_BATCH, offset=offset)
        for record in batch:
            yield _csv_line([_cell(getattr(record, column)) for column in CSV_COLUMNS])
        if len(batch) < CSV_BATCH:
            return
        offset += CSV_BATCH


@api
async def usage_csv(request: Request) -> Response:
    """GET /admin/api/usage.csv: the filtered log as CSV (every matching row)."""
    store = admin_state(request).gateway.storage.usage
    filters = parse_filters(request.query_params)
    name = f"usage-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(_csv_rows(store, filters), media_type="text/csv; charset=utf-8", headers=headers)


@api
async def overview(request: Request) -> Response:
    """GET /admin/api/overview?range=24h: series per bucket, top keys and models, Ollama's state."""
    gateway = admin_state(request).gateway
    range_name = pick_range(request.query_params.get("range"))
    series, width = await usage_series(gateway, range_name)
    top_keys, top_models = await top_lists(gateway, range_name)
    return json_response(
        {
            "range": range_name,
            "bucket_seconds": width,
            "series": {s.key: [[t.isoformat(), v] for t, v in s.points] for s in series},
            "top_keys": plain(top_keys),
            "top_models": plain(top_models),
            "ollama": await ollama_state(gateway),
        }
    )


def routes() -> list[Route]:
    """Usage API routes."""
    return [
        Route("/api/usage", usage_log, methods=["GET"]),
        Route("/api/usage.csv", usage_csv, methods=["GET"]),
        Route("/api/overview", overview, methods=["GET"]),
    ]
