"""The ASGI application: routes of every surface, and a lifespan that opens and closes the gateway."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ollama_gateway.admin import admin_routes, prepare_admin
from ollama_gateway.errors import MethodNotAllowedError, NotFoundError
from ollama_gateway.logs import configure_logging
from ollama_gateway.protocols.openai.errors import error_body
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.settings import Settings, load_settings
from ollama_gateway.upstream.port import HostFactory
from ollama_gateway.web.context import json_response
from ollama_gateway.web.cors import ApiCors
from ollama_gateway.web.dispatch import GatewayApp
from ollama_gateway.web.forwarded import TrustedProxies, parse_networks
from ollama_gateway.web.routes import anthropic, health, metrics, native, openai, responses, tasks

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, host_factory: HostFactory | None = None) -> Starlette:
    """Build the app; the gateway's connections open in the lifespan, not here. `host_factory` swaps the Ollama
    hosts for stand-ins (tests)."""
    settings = settings or load_settings()
    configure_logging(settings.log_format, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not settings.auth_enabled:
            log.warning(
                "AUTH=off: API requests need NO key and may use every model without limits. "
                "Only for a trusted network; the admin UI still needs its password."
            )
        gateway = await Gateway.open(settings, host_factory)
        app.state.gateway = gateway
        try:
            await prepare_admin(app, gateway)
            # Everything made at start-up lives as long as the process: keep the collector from scanning it
            # again on every collection (fewer, shorter pauses on the request path).
            gc.collect()
            gc.freeze()
            yield
        finally:
            await gateway.close()

    api: list[BaseRoute] = [*health.routes(), *openai.routes(), *anthropic.routes(), *tasks.routes()]
    api += [*responses.routes(), *native.routes(), *metrics.routes()]
    routes = [*api, *admin_routes()]
    middleware = [Middleware(ApiCors, origins=settings.cors_origin_list)] if settings.cors_origin_list else []
    # X-Forwarded-For only from configured proxies (uvicorn's own proxy headers are off; see `serve`).
    networks = parse_networks(settings.trusted_proxies)
    if networks:
        middleware.append(Middleware(TrustedProxies, networks=networks))
    app = GatewayApp(
        direct=api,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    app.state.settings = settings
    return app


async def _not_found(request: Request, _: Exception) -> Response:
    status, body = error_body(NotFoundError(f"no route for {request.method} {request.url.path}"))
    return json_response(body, status)


async def _not_allowed(request: Request, _: Exception) -> Response:
    status, body = error_body(MethodNotAllowedError(f"method {request.method} not allowed on {request.url.path}"))
    return json_response(body, status)
