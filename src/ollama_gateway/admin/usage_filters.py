"""Usage log filters from query parameters, shared by the usage page, its JSON API and the CSV export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.datastructures import QueryParams

from ollama_gateway.errors import InvalidRequestError

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class UsageFilters:
    """What the usage log is narrowed to; `until` is exclusive (the day after the `to` date)."""

    key_id: str | None = None
    model: str | None = None
    endpoint: str | None = None
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    date_from: str = ""
    date_to: str = ""

    def store_args(self) -> dict[str, Any]:
        """Keyword arguments for `UsageStore.query` / `count`."""
        return {
            "key_id": self.key_id,
            "model": self.model,
            "endpoint": self.endpoint,
            "status": self.status,
            "since": self.since,
            "until": self.until,
        }

    def query_string(self) -> dict[str, str]:
        """The filters as query parameters (for pagination and export links)."""
        values = {
            "key_id": self.key_id or "",
            "model": self.model or "",
            "endpoint": self.endpoint or "",
            "status": "" if self.status is None else str(self.status),
            "from": self.date_from,
            "to": self.date_to,
        }
        return {k: v for k, v in values.items() if v}


def _day(raw: str, param: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
    except ValueError as exc:
        raise InvalidRequestError(f"{param} must be a date like 2025-01-31", param=param) from exc


def parse_filters(params: QueryParams) -> UsageFilters:
    """Filters from `key_id`, `model`, `endpoint`, `status`, `from` and `to` (dates, UTC, both inclusive)."""

    def text(name: str) -> str | None:
        value = params.get(name, "").strip()
        return value or None

    status_raw = text("status")
    if status_raw is not None and not status_raw.isdigit():
        raise InvalidRequestError("status must be an HTTP status number", param="status")
    date_from, date_to = text("from") or "", text("to") or ""
    return UsageFilters(
        key_id=text("key_id"),
        model=text("model"),
        endpoint=text("endpoint"),
        status=int(status_raw) if status_raw else None,
        since=_day(date_from, "from") if date_from else None,
        until=_day(date_to, "to") + timedelta(days=1) if date_to else None,
        date_from=date_from,
        date_to=date_to,
    )


def parse_page(params: QueryParams, default_size: int = PAGE_SIZE) -> tuple[int, int]:
    """(page number from 1, page size) from `page` and `limit`."""
    try:
        number = max(1, int(params.get("page", "1")))
        size = max(1, min(MAX_PAGE_SIZE, int(params.get("limit", str(default_size)))))
    except ValueError as exc:
        raise InvalidRequestError("page and limit must be integers", param="page") from exc
    return number, size
