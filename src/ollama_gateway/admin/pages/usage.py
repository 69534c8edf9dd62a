"""The usage page: a filterable, paginated request log with a CSV export of the same filters."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.guard import page
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state
from ollama_gateway.admin.usage_filters import UsageFilters, parse_filters, parse_page
from ollama_gateway.errors import GatewayError


@page
async def usage_page(request: Request, session: Session) -> Response:
    """GET /admin/usage."""
    gateway = admin_state(request).gateway
    error = None
    try:
        filters = parse_filters(request.query_params)
        number, size = parse_page(request.query_params)
    except GatewayError as exc:
        filters, (number, size), error = UsageFilters(), (1, 50), exc.message
    total = await gateway.storage.usage.count(**filters.store_args())
    records = await gateway.storage.usage.query(**filters.store_args(), limit=size, offset=(number - 1) * size)
    keys = await gateway.storage.keys.list()
    query = filters.query_string()
    pages = max(1, -(-total // size))
    context = {
        "filters": filters,
        "records": records,
        "total": total,
        "page": number,
        "pages": pages,
        "keys": keys,
        "key_names": {k.id: k.name for k in keys},
        "prev_link": f"?{urlencode({**query, 'page': number - 1})}" if number > 1 else None,
        "next_link": f"?{urlencode({**query, 'page': number + 1})}" if number < pages else None,
        "export_link": f"/admin/api/usage.csv?{urlencode(query)}",
        "error": error,
    }
    return render(request, "usage.html", context, session=session, status=400 if error else 200)


def routes() -> list[Route]:
    """The usage route."""
    return [Route("/usage", usage_page, methods=["GET"])]
