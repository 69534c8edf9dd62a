"""Telling a client (a response header) and the operator (a log line) what a lenient decoder dropped."""

from __future__ import annotations

import logging
from typing import Final

from starlette.responses import Response

from ollama_gateway.core.leniency import Dropped, Leniency
from ollama_gateway.settings import Settings
from ollama_gateway.web.context import RequestContext

log = logging.getLogger(__name__)

DROPPED_TOOLS_HEADER: Final[str] = "X-Gateway-Dropped-Tools"
DROPPED_FIELDS_HEADER: Final[str] = "X-Gateway-Dropped-Fields"

# Bounds the memory of (client, name) pairs already logged; past it the memory starts over.
MAX_REMEMBERED: Final[int] = 10_000


def leniency(settings: Settings) -> Leniency:
    """The decoders' leniency from the HOSTED_TOOLS and UNSUPPORTED_FIELDS settings."""
    return Leniency(hosted_tools=settings.hosted_tools, unsupported_fields=settings.unsupported_fields)


class DropNotices:
    """Remembers which client was already told in the log about which dropped name: one line per pair."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str]] = set()

    def first_time(self, client: str, kind: str, name: str) -> bool:
        """True the first time this client has this kind of name dropped."""
        key = (client, kind, name)
        if key in self._seen:
            return False
        if len(self._seen) >= MAX_REMEMBERED:
            self._seen.clear()
        self._seen.add(key)
        return True


def report_dropped(ctx: RequestContext, response: Response, dropped: Dropped) -> Response:
    """Name what was dropped in the response headers, and log each (client, name) pair once."""
    if not dropped:
        return response
    if dropped.tools:
        response.headers[DROPPED_TOOLS_HEADER] = ", ".join(dropped.tools)
    if dropped.fields:
        response.headers[DROPPED_FIELDS_HEADER] = ", ".join(dropped.fields)
    state = ctx.request.app.state
    notices: DropNotices | None = getattr(state, "drop_notices", None)
    if notices is None:
        notices = state.drop_notices = DropNotices()
    # The key's id (never its secret) names the client; unauthenticated use falls back to the address.
    client = f"key {ctx.key.id}" if ctx.key is not None else (ctx.request.client.host if ctx.request.client else "-")
    for kind, names in (("tool", dropped.tools), ("field", dropped.fields)):
        for name in names:
            if notices.first_time(client, kind, name):
                log.warning("dropped %s %r on %s for %s (Ollama cannot honour it)", kind, name, ctx.endpoint, client)
    return response
