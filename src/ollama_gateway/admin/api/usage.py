"""Admin API for usage: the filtered log as JSON or CSV, and the overview's series and top lists."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ollama_gateway.admin.api.common import plain
from ollama_gateway.admin.guard import api
from ollama_gateway.admin.overview import ollama_state, pick_range, top_lists, usage_series
from ollama_gateway.admin.state import admin_state
from ollama_gateway.admin.usage_csv import usage_csv_rows
from ollama_gateway.admin.usage_filters import parse_filters, parse_page
from ollama_gateway.web.context import json_response


@api
async def usage_log(request: Request) -> Response:
    """GET /admin/api/usage: `{total, page, limit, records}`, newest first."""
    store = admin_state(request).gateway.storage.usage
    filters = parse_filters(request.query_params)
    number, size = parse_page(request.query_params)
    total = await store.count(**filters.store_args())
    records = await store.query(**filters.store_args(), limit=size, offset=(number - 1) * size)
    return json_response({"total": total, "page": number, "limit": size, "records": plain(records)})


@api
async def usage_csv(request: Request) -> Response:
    """GET /admin/api/usage.csv: the filtered log as CSV (every matching row)."""
    storage = admin_state(request).gateway.storage
    filters = parse_filters(request.query_params)
    key_names = {k.id: k.name for k in await storage.keys.list()}
    rows = usage_csv_rows(storage.usage, filters.store_args(), key_names)
    name = f"usage-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers=headers)


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
