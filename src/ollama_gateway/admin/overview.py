"""What the overview shows: usage over a time range, top keys and models, and Ollama's state."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ollama_gateway.admin.charts import Series, bucket_starts, series_from
from ollama_gateway.errors import GatewayError
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.storage.models import ModelRecord, name_variants
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
    model: str | None  # the Ollama name, for links that must match requests made under either name
    requests: int
    errors: int
    tokens: int


def pick_range(raw: str | None) -> str:
    """A known range name (the default for anything else)."""
    return raw if raw in RANGES else DEFAULT_RANGE


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` percentile (0 < q <= 1) of `values`; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return float(ordered[rank - 1])


def percentile_series(
    samples: Sequence[tuple[datetime, float | None]],
    starts: Sequence[datetime],
    width: int,
    key: str,
    title: str,
    q: float = 0.95,
) -> Series:
    """Per bucket, the `q` percentile of the samples (time, value) that fall in it (missing values skipped)."""
    grouped: dict[int, list[float]] = defaultdict(list)
    for moment, value in samples:
        if value is not None:
            grouped[int(moment.timestamp()) // width * width].append(value)
    points = [(s, percentile(grouped.get(int(s.timestamp()), []), q)) for s in starts]
    return Series(key, title, "ms", points)


async def usage_series(
    gateway: Gateway,
    range_name: str,
    now: datetime | None = None,
    *,
    key_id: str | None = None,
    model: str | None = None,
) -> tuple[list[Series], int]:
    """Requests, tokens, errors, mean and p95 latency, p95 time to first token per bucket; and the bucket width."""
    span, width = RANGES[pick_range(range_name)]
    until = now or datetime.now(UTC)
    since = until - span
    end = until + timedelta(seconds=1)
    store = gateway.storage.usage
    buckets = await store.timeseries(since, width, until=end, key_id=key_id, model=model)
    samples = await store.latencies(since, until=end, key_id=key_id, model=model)
    starts = bucket_starts(since, until + timedelta(seconds=width), width)
    return [
        series_from(buckets, starts, "requests", "Requests", "", lambda b: b.requests),
        series_from(buckets, starts, "tokens", "Tokens", "", lambda b: b.tokens),
        series_from(buckets, starts, "errors", "Errors", "", lambda b: b.errors),
        series_from(buckets, starts, "latency", "Mean latency", "ms", lambda b: b.avg_latency_ms),
        percentile_series([(t, float(lat)) for t, lat, _ in samples], starts, width, "latency_p95", "p95 latency"),
        percentile_series(
            [(t, None if ttft is None else float(ttft)) for t, _, ttft in samples],
            starts,
            width,
            "ttft_p95",
            "p95 time to first token",
        ),
    ], width


def model_aliases(records: Sequence[ModelRecord]) -> dict[str, tuple[str, str]]:
    """Every name a model is requested by (Ollama name, display name, with and without `:latest`) →
    (the name clients see, the Ollama name)."""
    aliases: dict[str, tuple[str, str]] = {}
    for record in records:
        for name in (record.name, record.display_name):
            for variant in name_variants(name) if name else ():
                aliases.setdefault(variant, (record.public_name, record.name))
    return aliases


def _totals(
    rows: list[UsageSummaryRow],
    names: dict[str, str],
    by_key: bool,
    aliases: dict[str, tuple[str, str]] | None = None,
) -> list[Total]:
    grouped: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0])
    upstream: dict[str | None, str] = {}
    for row in rows:
        group: str | None = row.key_id
        if not by_key:
            # One model requested by its display name and by its Ollama name is one row.
            group, ollama_name = (aliases or {}).get(row.model, (row.model, row.model))
            upstream[group] = ollama_name
        entry = grouped[group]
        entry[0] += row.requests
        entry[1] += row.errors
        entry[2] += row.total_tokens
    totals = [
        Total(
            name=(names.get(group or "", group or "(admin / no key)") if by_key else str(group)),
            key_id=group if by_key else None,
            model=None if by_key else upstream.get(group, group),
            requests=r,
            errors=e,
            tokens=t,
        )
        for group, (r, e, t) in grouped.items()
    ]
    return sorted(totals, key=lambda t: (-t.requests, -t.tokens, t.name))


async def top_lists(
    gateway: Gateway, range_name: str, *, key_id: str | None = None, model: str | None = None, top: int = TOP
) -> tuple[list[Total], list[Total]]:
    """The busiest keys and models over the range (optionally within one key's or one model's requests)."""
    span, _ = RANGES[pick_range(range_name)]
    rows = await gateway.storage.usage.summary(since=datetime.now(UTC) - span, key_id=key_id, model=model)
    names = {k.id: k.name for k in await gateway.storage.keys.list()}
    aliases = model_aliases(gateway.catalog.records)
    return _totals(rows, names, True)[:top], _totals(rows, names, False, aliases)[:top]


async def ollama_state(gateway: Gateway) -> dict[str, Any]:
    """Whether Ollama answers, its version, and the catalog's last refresh error."""
    urls = ", ".join(c.url for c in gateway.upstream.configs)
    state: dict[str, Any] = {"url": urls, "refresh_error": gateway.catalog.last_refresh_error}
    try:
        answer = await gateway.upstream.version()
    except GatewayError as exc:
        return {**state, "ok": False, "error": exc.message}
    return {**state, "ok": True, "version": str(answer.get("version", "unknown"))}
