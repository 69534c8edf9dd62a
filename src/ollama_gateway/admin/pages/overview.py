"""The overview: usage charts, the busiest keys and models, and Ollama's connection state."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.charts import render_chart
from ollama_gateway.admin.guard import page
from ollama_gateway.admin.overview import RANGES, ollama_state, pick_range, top_lists, usage_series
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state


@page
async def overview(request: Request, session: Session) -> Response:
    """GET /admin/."""
    gateway = admin_state(request).gateway
    range_name = pick_range(request.query_params.get("range"))
    series, width = await usage_series(gateway, range_name)
    top_keys, top_models = await top_lists(gateway, range_name)
    context = {
        "range": range_name,
        "ranges": list(RANGES),
        "charts": [(s, render_chart(s, width)) for s in series],
        "top_keys": top_keys,
        "top_models": top_models,
        "ollama": await ollama_state(gateway),
        "model_count": sum(1 for r in gateway.catalog.records if r.present),
    }
    return render(request, "overview.html", context, session=session)


def routes() -> list[Route]:
    """The overview route."""
    return [Route("/", overview, methods=["GET"])]
