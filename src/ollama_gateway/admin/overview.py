"""What the overview shows: usage over a time range, top keys and models, and Ollama's state."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ollama_gateway.admin.charts import Series, bucket_starts, series_from
from ollama_gateway.errors import GatewayError
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.storage.usage import UsageSummaryRow

# range name → (span, bucket width in seconds)
RANGES: dict[str, tuple[timedelta, int]] = {
    "1h": (timedelta(hours=1), 120),
    "24h": (timedelta(hours=24), 1800),
    "7d": (timedelta(days=7), 6 * 3600),
    "30d": (timedelta(days=30), 86400),
}
DEFAULT_RANGE = "24h"
TOP = 5


@dataclass(frozen=True, slots=True)
class Total:
    """Totals for one key or model."""

    name: str
    key_id: str | None
    requests: int
    errors: int
    tokens: int


def pick_range(raw: str | None) -> str:
    """A known range name (the default for anything else)."""
    return raw if raw in RANGES else DEFAULT_RANGE


async def usage_series(gateway: Gateway, range_name: str, now: datetime | None = None) -> tuple[list[Series], int]:
    """Requests, tokens, errors and mean latency per bucket over the range; and the bucket width."""
    span, width = RANGES[pick_range(range_name)]
    until = now or datetime.now(UTC)
    since = until - span
    buckets = await gateway.storage.usage.timeseries(since, width, until=until + timedelta(seconds=1))
    starts = bucket_starts(since, until + timedelta(seconds=width), width)
    return [
        series_from(buckets, starts, "requests", "Requests", "", lambda b: b.requests),
        series_from(buckets, starts, "tokens", "Tokens", "", lambda b: b.tokens),
        series_from(buckets, starts, "errors", "Errors", "", lambda b: b.errors),
        series_from(buckets, starts, "latency", "Mean latency", "ms", lambda b: b.avg_latency_ms),
    ], width


def _totals(rows: list[UsageSummaryRow], names: dict[str, str], by_key: bool) -> list[Total]:
    grouped: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        entry = grouped[row.key_id if by_key else row.model]
        entry[0] += row.requests
        entry[1] += row.errors
        entry[2] += row.total_tokens
    totals = [
        Total(
            name=(names.get(group or "", group or "(admin / no key)") if by_key else str(group)),
            key_id=group if by_key else None,
            requests=r,
            errors=e,
            tokens=t,
        )
        for group, (r, e, t) in grouped.items()
    ]
    return sorted(totals, key=lambda t: (-t.requests, -t.tokens, t.name))


async def top_lists(gateway: Gateway, range_name: str) -> tuple[list[Total], list[Total]]:
    """The busiest keys and models over the range."""
    span, _ = RANGES[pick_range(range_name)]
    rows = await gateway.storage.usage.summary(since=datetime.now(UTC) - span)
    names = {k.id: k.name for k in await gateway.storage.keys.list()}
    return _totals(rows, names, True)[:TOP], _totals(rows, names, False)[:TOP]


async def ollama_state(gateway: Gateway) -> dict[str, Any]:
    """Whether Ollama answers, its version, and the catalog's last refresh error."""
    urls = ", ".join(c.url for c in gateway.upstream.configs)
    state: dict[str, Any] = {"url": urls, "refresh_error": gateway.catalog.last_refresh_error}
    try:
        answer = await gateway.upstream.version()
    except GatewayError as exc:
        return {**state, "ok": False, "error": exc.message}
    return {**state, "ok": True, "version": str(answer.get("version", "unknown"))}
