"""The models page: the catalog with capabilities and sizes, editing, pulling and deleting."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.guard import page
from ollama_gateway.admin.override_map import export_map
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state
from ollama_gateway.upstream.routing import canonical_model


@page
async def models_page(request: Request, session: Session) -> Response:
    """GET /admin/models."""
    gateway = admin_state(request).gateway
    await gateway.catalog.reload()
    rows = [
        {"record": r, "overrides_json": orjson.dumps(dict(r.overrides), option=orjson.OPT_INDENT_2).decode()}
        for r in gateway.catalog.records
    ]
    document = export_map(await gateway.storage.models.list())
    context = {
        "rows": rows,
        "refresh_error": gateway.catalog.last_refresh_error,
        "overrides_document": orjson.dumps(document, option=orjson.OPT_INDENT_2).decode(),
        "hosts": [(c.id, c.label) for c in gateway.upstream.configs if c.enabled],
        "held": {s.config.id: {canonical_model(m) for m in s.models} for s in gateway.upstream.states()},
    }
    return render(request, "models.html", context, session=session)


def routes() -> list[Route]:
    """The models route."""
    return [Route("/models", models_page, methods=["GET"])]
