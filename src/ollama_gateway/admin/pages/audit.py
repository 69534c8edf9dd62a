"""The audit log page: every admin change, newest first, filterable by kind."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.guard import page
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state

PAGE_SIZE = 50
# The filter's choices: families of actions (a trailing dot matches every action in the family).
FAMILIES = (
    ("", "everything"),
    ("login", "logins"),
    ("login.failed", "failed logins"),
    ("key.", "keys"),
    ("model.", "models"),
    ("settings.", "settings"),
    ("host.", "hosts"),
    ("password.", "password"),
)


@page
async def audit_page(request: Request, session: Session) -> Response:
    """GET /admin/audit?action=key.&page=N."""
    action = request.query_params.get("action", "")
    if action not in {value for value, _ in FAMILIES}:
        action = ""
    try:
        number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        number = 1
    store = admin_state(request).gateway.storage.audit
    entries = await store.list(limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE, action=action or None)
    more = len(entries) > PAGE_SIZE
    base = {"action": action} if action else {}
    context = {
        "entries": entries[:PAGE_SIZE],
        "families": FAMILIES,
        "action": action,
        "page": number,
        "prev_link": f"?{urlencode({**base, 'page': number - 1})}" if number > 1 else None,
        "next_link": f"?{urlencode({**base, 'page': number + 1})}" if more else None,
        "retention_days": admin_state(request).gateway.settings.usage_retention_days,
    }
    return render(request, "audit.html", context, session=session)


def routes() -> list[Route]:
    """The audit route."""
    return [Route("/audit", audit_page, methods=["GET"])]
