"""The API keys page: create and rotate (secret shown once), edit, revoke, delete, and each key's usage."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.api.keys import budget_json
from ollama_gateway.admin.guard import page
from ollama_gateway.admin.render import render
from ollama_gateway.admin.sessions import Session
from ollama_gateway.admin.state import admin_state

USAGE_DAYS = 30
PERIOD_CHOICES = (
    ("", "never (lifetime total)"),
    ("daily", "daily"),
    ("weekly", "weekly (Monday)"),
    ("monthly", "monthly (1st)"),
)


@page
async def keys_page(request: Request, session: Session) -> Response:
    """GET /admin/keys."""
    gateway = admin_state(request).gateway
    keys = await gateway.storage.keys.list()
    usage: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for row in await gateway.storage.usage.summary(since=datetime.now(UTC) - timedelta(days=USAGE_DAYS)):
        usage[row.key_id][0] += row.requests
        usage[row.key_id][1] += row.total_tokens
    models = sorted({r.public_name for r in gateway.catalog.records if r.present and r.enabled})
    now = datetime.now(UTC)
    context = {
        "budgets": {k.id: budget_json(k, now) for k in keys},
        "periods": PERIOD_CHOICES,
        "keys": keys,
        "usage": {k.id: usage.get(k.id, [0, 0]) for k in keys},
        "usage_days": USAGE_DAYS,
        "models": models,
        "now": now,
    }
    return render(request, "keys.html", context, session=session)


def routes() -> list[Route]:
    """The keys route."""
    return [Route("/keys", keys_page, methods=["GET"])]
