"""The ASGI application class: Starlette, with the public API's fixed paths dispatched in one dictionary lookup.

Starlette routes a request through its error and exception middleware, a scan of every route's regular
expression, and two wrappers around the endpoint. The API endpoints need none of it: `web.context.endpoint`
already turns every failure into a response in the caller's protocol. So a request for one of the fixed API
paths with an allowed method goes straight to its endpoint (through the configured middleware: CORS, trusted
proxies); everything else (paths with parameters, the admin UI, 404/405 answers, the lifespan) is Starlette's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send


class GatewayApp(Starlette):
    """Starlette plus a direct table for `direct` routes whose paths have no parameters."""

    def __init__(self, *, direct: Sequence[BaseRoute], **options: Any) -> None:
        super().__init__(**options)
        self._direct: dict[str, Route] = {
            route.path: route for route in direct if isinstance(route, Route) and "{" not in route.path
        }
        self._direct_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            route = self._direct.get(scope["path"])
            if route is not None and route.methods is not None and scope["method"] in route.methods:
                scope["app"] = self
                scope["endpoint"] = route.endpoint
                if self._direct_stack is None:
                    self._direct_stack = self._wrap(_call_endpoint)
                await self._direct_stack(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _wrap(self, app: ASGIApp) -> ASGIApp:
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


async def _call_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive, send)
    response = await scope["endpoint"](request)
    await response(scope, receive, send)
