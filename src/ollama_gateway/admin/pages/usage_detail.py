"""Drill-down pages: one key's or one model's usage over a range, with their own charts and totals."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.charts import render_chart
from ollama_gateway.admin.guard import page
from ollama_gateway.admin.overview import RANGES, model_aliases, pick_range, top_lists, usage_series
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state

RECENT = 20


@page
async def key_usage(request: Request, session: Session) -> Response:
    """GET /admin/usage/key/{key_id}?range=24h: the key's charts, its models, and its latest requests."""
    gateway = admin_state(request).gateway
    key_id = request.path_params["key_id"]
    key = await gateway.storage.keys.get(key_id)
    range_name = pick_range(request.query_params.get("range"))
    series, width = await usage_series(gateway, range_name, key_id=key_id)
    _, models = await top_lists(gateway, range_name, key_id=key_id, top=20)
    recent = await gateway.storage.usage.query(key_id=key_id, limit=RECENT)
    context = {
        "kind": "key",
        "title": key.name if key else key_id,
        "subtitle": key_id if key else "deleted key",
        "range": range_name,
        "ranges": list(RANGES),
        "charts": [(s, render_chart(s, width)) for s in series],
        "breakdown": models,
        "breakdown_title": "Models",
        "recent": recent,
        "log_link": f"/admin/usage?key_id={quote(key_id, safe='')}",
    }
    status = 200 if key or recent else 404
    return render(request, "usage_detail.html", context, session=session, status=status)


@page
async def model_usage(request: Request, session: Session) -> Response:
    """GET /admin/usage/model/{name}?range=24h: the model's charts (under any of its names), its keys, requests."""
    gateway = admin_state(request).gateway
    requested = request.path_params["name"]
    public, ollama_name = model_aliases(gateway.catalog.records).get(requested, (requested, requested))
    range_name = pick_range(request.query_params.get("range"))
    # Filtering on the Ollama name matches requests made under the display name too (their upstream name).
    series, width = await usage_series(gateway, range_name, model=ollama_name)
    keys, _ = await top_lists(gateway, range_name, model=ollama_name, top=20)
    recent = await gateway.storage.usage.query(model=ollama_name, limit=RECENT)
    context = {
        "kind": "model",
        "title": public,
        "subtitle": f"Ollama name {ollama_name}" if ollama_name != public else "",
        "range": range_name,
        "ranges": list(RANGES),
        "charts": [(s, render_chart(s, width)) for s in series],
        "breakdown": keys,
        "breakdown_title": "Keys",
        "recent": recent,
        "log_link": f"/admin/usage?model={quote(ollama_name, safe='')}",
    }
    return render(request, "usage_detail.html", context, session=session)


def routes() -> list[Route]:
    """The drill-down routes."""
    return [
        Route("/usage/key/{key_id}", key_usage, methods=["GET"]),
        Route("/usage/model/{name:path}", model_usage, methods=["GET"]),
    ]
