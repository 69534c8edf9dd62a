"""What fleet tests need of a fake host: an identity, request counts, a busy switch, a chosen catalog.

Everything here lives under `/_fake/`, a prefix Ollama's API never uses, and adds only one harmless response
header (`X-Fake-Host`) to Ollama's own answers.

    GET  /_fake/stats          {"name", "busy", "paths": {path: n}, "models": {path: {model: n}}}
    POST /_fake/busy           {"busy": true|false}: scheduled requests answer Ollama's 503 "server busy"
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from aiohttp import web

from .catalog import Catalog, ModelEntry, default_entries, parse_name
from .routes_generation import STATE_KEY
from .state import FakeState
from .wire import json_response

PREFIX = "/_fake/"
HOST_HEADER = "X-Fake-Host"
FOREVER = {"keep_alive": -1}


def catalog_of(names: Iterable[str]) -> Catalog:
    """A catalog holding exactly `names`: a default model keeps its details, any other is a chat model."""
    defaults = {entry.name.key: entry for entry in default_entries()}
    entries = []
    for name in names:
        parsed = parse_name(name)
        if parsed is None:
            raise ValueError(f"invalid model name: {name!r}")
        entries.append(defaults.get(parsed.key) or ModelEntry(name=parsed, capabilities=["completion", "tools"]))
    return Catalog(entries)


def preload(state: FakeState, names: Iterable[str]) -> list[ModelEntry]:
    """Put installed models in /api/ps until unloaded; ValueError for a model that is not installed."""
    entries = []
    for name in names:
        entry = state.models.get(name)
        if entry is None:
            raise ValueError(f"cannot load {name!r}: not in the catalog")
        state.mark_loaded(entry, FOREVER)
        entries.append(entry)
    return entries


async def handle_stats(request: web.Request) -> web.Response:
    """GET /_fake/stats."""
    state = request.app[STATE_KEY]
    return json_response({"name": state.name, "busy": state.busy, **state.stats.snapshot()})


async def handle_busy(request: web.Request) -> web.Response:
    """POST /_fake/busy {"busy": bool}."""
    state = request.app[STATE_KEY]
    body = json.loads(await request.read() or b"{}")
    state.busy = bool(body.get("busy"))
    return json_response({"busy": state.busy})


async def add_host_header(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: name the host on every answer, streamed ones included."""
    name = request.app[STATE_KEY].name
    if name:
        response.headers[HOST_HEADER] = name
