"""What the admin API modules share: JSON bodies in, plain JSON out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from starlette.requests import Request

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.web.body import read_json

MAX_BODY_BYTES = 1024 * 1024


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object (up to 1 MiB), or a 400."""
    body = await read_json(request, MAX_BODY_BYTES)
    if not isinstance(body, dict):
        raise InvalidRequestError("the body must be a JSON object")
    return body


def plain(value: Any) -> Any:
    """A JSON-ready copy of dataclasses, datetimes, mappings and tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def optional_int(body: Mapping[str, Any], name: str) -> int | None:
    """A non-negative integer field, None when absent, null or empty; else a 400."""
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"{name} must be a non-negative integer", param=name)
    return value
