"""Admin API for API keys: list with usage, create and rotate (the secret returned once), update, revoke, delete."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ollama_gateway.admin.api.common import json_object, optional_int, plain
from ollama_gateway.admin.guard import api
from ollama_gateway.admin.state import admin_state
from ollama_gateway.errors import InvalidRequestError, NotFoundError
from ollama_gateway.policy.limits import budget_period_start, next_budget_period, period_tokens_used
from ollama_gateway.service.key_models import check_key_models
from ollama_gateway.storage.keys import BUDGET_PERIODS, KeyRecord
from ollama_gateway.storage.models import ModelStore
from ollama_gateway.storage.sql import UNSET
from ollama_gateway.web.context import json_response

USAGE_DAYS = 30


MAX_GRACE_SECONDS = 30 * 86_400


def key_json(record: KeyRecord, usage: tuple[int, int] | None = None) -> dict[str, Any]:
    """A key as the API shows it (never its secret, which is not stored), with its budget's state this period."""
    now = datetime.now(UTC)
    out = {
        **plain(record),
        "revoked": record.revoked,
        "expired": record.expired(now),
        "budget": budget_json(record, now),
    }
    if usage is not None:
        out["usage_30d"] = {"requests": usage[0], "tokens": usage[1]}
    return out


def budget_json(record: KeyRecord, now: datetime) -> dict[str, Any] | None:
    """The budget's use and remainder in the current period, and when that period resets (None: no budget)."""
    if record.token_budget is None:
        return None
    used = period_tokens_used(record.tokens_used, record.budget_period, record.budget_period_start, now)
    start = budget_period_start(record.budget_period, now)
    resets = None if start is None or record.budget_period is None else next_budget_period(record.budget_period, start)
    return {
        "period": record.budget_period or "lifetime",
        "used": used,
        "remaining": max(0, record.token_budget - used),
        "resets_at": resets,
    }


def parse_period(raw: Any) -> str | None:
    """`daily`, `weekly`, `monthly`, or None (lifetime) for null, empty text or `lifetime`."""
    if raw is None or raw == "" or raw == "lifetime":
        return None
    if raw not in BUDGET_PERIODS:
        raise InvalidRequestError("budget_period must be daily, weekly, monthly or lifetime", param="budget_period")
    return str(raw)


def parse_models(raw: Any) -> list[str] | None:
    """A list of model names, or None for every model (null, empty list, or empty text)."""
    if raw is None or raw == "" or raw == []:
        return None
    if isinstance(raw, str):
        raw = [part for part in raw.split(",")]
    if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
        raise InvalidRequestError("models must be a list of model names", param="models")
    names = [m.strip() for m in raw if m.strip()]
    return names or None


def parse_expiry(raw: Any) -> datetime | None:
    """An ISO date (start of that day, UTC) or datetime (UTC when no zone) in the future; None when empty."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise InvalidRequestError("expires_at must be an ISO date or datetime", param="expires_at")
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise InvalidRequestError("expires_at must be an ISO date or datetime", param="expires_at") from exc
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if parsed <= datetime.now(UTC):
        raise InvalidRequestError("expires_at must be in the future", param="expires_at")
    return parsed


async def checked_models(store: ModelStore, names: list[str] | None, body: dict[str, Any]) -> list[str] | None:
    """The names matched to the catalog (bare families resolved); unknown ones a 400 unless `allow_unknown`."""
    if names is None:
        return None
    allow = body.get("allow_unknown", False)
    if not isinstance(allow, bool):
        raise InvalidRequestError("allow_unknown must be true or false", param="allow_unknown")
    return (await check_key_models(store, names, allow_unknown=allow)).names


@api
async def list_keys(request: Request) -> Response:
    """GET /admin/api/keys: every key, with its requests and tokens over the last 30 days."""
    storage = admin_state(request).gateway.storage
    usage: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for row in await storage.usage.summary(since=datetime.now(UTC) - timedelta(days=USAGE_DAYS)):
        usage[row.key_id][0] += row.requests
        usage[row.key_id][1] += row.total_tokens
    keys = await storage.keys.list()
    return json_response({"keys": [key_json(k, (usage[k.id][0], usage[k.id][1])) for k in keys]})


@api
async def create_key(request: Request) -> Response:
    """POST /admin/api/keys: name, models, rpm, tpm, token_budget, expires_at; answers the secret once."""
    body = await json_object(request)
    name = body.get("name")
    if not isinstance(name, str):
        raise InvalidRequestError("a key needs a name", param="name")
    storage = admin_state(request).gateway.storage
    record, secret = await storage.keys.create(
        name,
        models=await checked_models(storage.models, parse_models(body.get("models")), body),
        rpm=optional_int(body, "rpm"),
        tpm=optional_int(body, "tpm"),
        token_budget=optional_int(body, "token_budget"),
        expires_at=parse_expiry(body.get("expires_at")),
        budget_period=parse_period(body.get("budget_period")),
    )
    await admin_state(request).audit(request, "key.create", record.id, _limits_detail(record))
    return json_response({"key": key_json(record), "secret": secret}, 201)


@api
async def update_key(request: Request) -> Response:
    """PATCH /admin/api/keys/{key_id}: change name, models or limits (null clears a limit)."""
    gateway = admin_state(request).gateway
    key_id = request.path_params["key_id"]
    body = await json_object(request)
    record = await gateway.storage.keys.update(
        key_id,
        name=body["name"] if isinstance(body.get("name"), str) else UNSET,
        models=await checked_models(gateway.storage.models, parse_models(body["models"]), body)
        if "models" in body
        else UNSET,
        rpm=optional_int(body, "rpm") if "rpm" in body else UNSET,
        tpm=optional_int(body, "tpm") if "tpm" in body else UNSET,
        token_budget=optional_int(body, "token_budget") if "token_budget" in body else UNSET,
        expires_at=parse_expiry(body["expires_at"]) if "expires_at" in body else UNSET,
        budget_period=parse_period(body["budget_period"]) if "budget_period" in body else UNSET,
    )
    if record is None:
        raise NotFoundError(f"key '{key_id}' not found", param="key_id")
    gateway.auth.forget(key_id)
    fields = sorted(k for k in body if k in _EDITABLE)
    await admin_state(request).audit(request, "key.update", key_id, {"fields": fields, **_limits_detail(record)})
    return json_response({"key": key_json(record)})


@api
async def revoke_key(request: Request) -> Response:
    """DELETE /admin/api/keys/{key_id}: revoke the key (`?permanent=1`: delete it); drops it from the auth cache."""
    gateway = admin_state(request).gateway
    key_id = request.path_params["key_id"]
    if request.query_params.get("permanent") in ("1", "true"):
        if not await gateway.storage.keys.delete(key_id):
            raise NotFoundError(f"key '{key_id}' not found", param="key_id")
        gateway.auth.forget(key_id)
        await admin_state(request).audit(request, "key.delete", key_id)
        return json_response({"deleted": key_id})
    record = await gateway.storage.keys.revoke(key_id)
    if record is None:
        raise NotFoundError(f"key '{key_id}' not found", param="key_id")
    gateway.auth.forget(key_id)
    await admin_state(request).audit(request, "key.revoke", key_id)
    return json_response({"key": key_json(record)})


@api
async def rotate_key(request: Request) -> Response:
    """POST /admin/api/keys/{key_id}/rotate `{"grace_seconds": N}`: a new secret, returned once; the old one
    keeps working for the grace period (0: stops at once)."""
    gateway = admin_state(request).gateway
    key_id = request.path_params["key_id"]
    body = await json_object(request) if await request.body() else {}
    grace = optional_int(body, "grace_seconds") or 0
    if grace > MAX_GRACE_SECONDS:
        raise InvalidRequestError(f"grace_seconds must be at most {MAX_GRACE_SECONDS}", param="grace_seconds")
    rotated = await gateway.storage.keys.rotate(key_id, grace_seconds=grace)
    if rotated is None:
        raise NotFoundError(f"key '{key_id}' not found or revoked", param="key_id")
    record, secret = rotated
    gateway.auth.forget(key_id)
    await admin_state(request).audit(request, "key.rotate", key_id, {"grace_seconds": grace})
    return json_response({"key": key_json(record), "secret": secret})


_EDITABLE = frozenset({"name", "models", "rpm", "tpm", "token_budget", "expires_at", "budget_period"})


def _limits_detail(record: KeyRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "models": list(record.models) if record.models is not None else None,
        "rpm": record.rpm,
        "tpm": record.tpm,
        "token_budget": record.token_budget,
        "budget_period": record.budget_period,
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
    }


def routes() -> list[Route]:
    """Key API routes."""
    return [
        Route("/api/keys", list_keys, methods=["GET"]),
        Route("/api/keys", create_key, methods=["POST"]),
        Route("/api/keys/{key_id}", update_key, methods=["PATCH"]),
        Route("/api/keys/{key_id}", revoke_key, methods=["DELETE"]),
        Route("/api/keys/{key_id}/rotate", rotate_key, methods=["POST"]),
    ]
