"""Admin API for every model's overrides as one JSON document: export it, or import it whole and atomically."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.api.common import json_object
from ollama_gateway.admin.guard import api
from ollama_gateway.admin.override_map import export_map, import_map
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.web.context import json_response


@api
async def export_overrides(request: Request) -> Response:
    """GET /admin/api/models/overrides: `{model: overrides}` for every model that has any."""
    gateway = admin_state(request).gateway
    return json_response(export_map(await gateway.storage.models.list()))


def _document(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise InvalidRequestError(f"the overrides document is not valid JSON: {exc}", param="overrides") from exc
    return raw


@api
async def import_overrides(request: Request) -> Response:
    """PUT /admin/api/models/overrides `{"overrides": {model: {...}} or its JSON text, "replace": bool}`: validated
    as a whole, applied in one transaction; `replace` clears the overrides of every model not named."""
    gateway = admin_state(request).gateway
    body = await json_object(request)
    if "overrides" not in body:
        raise InvalidRequestError("send the document as 'overrides'", param="overrides")
    replace = body.get("replace", False)
    if not isinstance(replace, bool):
        raise InvalidRequestError("replace must be true or false", param="replace")
    result = await import_map(gateway.storage.models, _document(body["overrides"]), replace=replace)
    await gateway.catalog.reload()
    detail = {"models": sorted(result.applied), "replace": replace}
    await admin_state(request).audit(request, "model.overrides_import", None, detail)
    return json_response({"applied": result.applied, "replaced": replace})


def routes() -> list[Route]:
    """Override-document routes (listed before the per-model routes, whose paths would also match)."""
    return [
        Route("/api/models/overrides", export_overrides, methods=["GET"]),
        Route("/api/models/overrides", import_overrides, methods=["PUT"]),
    ]
