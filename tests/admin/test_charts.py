"""Server-drawn SVG charts: buckets filled with zeros, totals exposed, every text escaped."""

from __future__ import annotations

from datetime import UTC, datetime

from ollama_gateway.admin.charts import Series, bucket_starts, render_chart, series_from
from ollama_gateway.storage.usage import UsageBucket


def test_buckets_are_filled_and_totalled() -> None:
    since, until = datetime(2025, 1, 1, 0, 0, tzinfo=UTC), datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
    starts = bucket_starts(since, until, 600)
    assert len(starts) == 6
    bucket = UsageBucket(start=starts[2], requests=3, errors=1, prompt_tokens=5, completion_tokens=7, avg_latency_ms=9)
    series = series_from([bucket], starts, "requests", "Requests", "", lambda b: b.requests)
    assert [v for _, v in series.points] == [0, 0, 3, 0, 0, 0]
    svg = render_chart(series, 600)
    assert 'data-series="requests" data-total="3"' in svg
    assert svg.count("<rect") == 6 and svg.count("<circle") == 1
    assert "style=" not in svg  # inline styles would break the CSP


def test_text_is_escaped() -> None:
    series = Series("x", "<script>alert(1)</script>", "", [(datetime(2025, 1, 1, tzinfo=UTC), 1.0)])
    svg = render_chart(series, 60)
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_empty_series_draws_axes_only() -> None:
    svg = render_chart(Series("x", "Empty", "", []), 60)
    assert svg.startswith("<svg") and "<polyline" not in svg
