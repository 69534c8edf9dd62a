"""Usage records: batch insert, filtered queries newest first, per-day summaries, time buckets, pruning."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.storage import Storage, UsageRecord

T0 = datetime(2026, 3, 10, 23, 59, 30, 250_000, tzinfo=UTC)


def usage(
    at: datetime = T0,
    *,
    key_id: str | None = "key_a",
    model: str = "gpt-4o",
    upstream: str = "qwen3:8b",
    endpoint: str = "/v1/chat/completions",
    status: int = 200,
    prompt: int = 10,
    completion: int = 5,
    latency: int = 100,
    **extra: object,
) -> UsageRecord:
    return UsageRecord(
        created_at=at,
        key_id=key_id,
        model_requested=model,
        model_upstream=upstream,
        endpoint=endpoint,
        status=status,
        prompt_tokens=prompt,
        completion_tokens=completion,
        latency_ms=latency,
        **extra,  # type: ignore[arg-type]
    )


async def test_insert_and_query_round_trip_every_field(storage: Storage) -> None:
    record = usage(
        ttft_ms=42, stream=True, task_id="task-1", client_ip="10.0.0.7", user_agent="openai-python/1.0", error=None
    )
    failed = usage(T0 + timedelta(seconds=1), status=502, error="upstream: connection refused", key_id=None)
    assert await storage.usage.insert_many([record, failed]) == 2
    assert await storage.usage.insert_many([]) == 0
    newest, oldest = await storage.usage.query()
    assert newest.id is not None and oldest.id is not None and newest.id > oldest.id
    assert newest == dataclasses.replace(failed, id=newest.id)
    assert oldest == dataclasses.replace(record, id=oldest.id)
    assert (newest.status, newest.error, newest.key_id, newest.ttft_ms) == (
        502,
        "upstream: connection refused",
        None,
        None,
    )
    assert oldest.created_at == T0
    assert (oldest.ttft_ms, oldest.stream, oldest.task_id, oldest.client_ip, oldest.user_agent) == (
        42,
        True,
        "task-1",
        "10.0.0.7",
        "openai-python/1.0",
    )
    assert (oldest.prompt_tokens, oldest.completion_tokens, oldest.total_tokens, oldest.latency_ms) == (10, 5, 15, 100)


async def test_query_filters_and_pages_newest_first(storage: Storage) -> None:
    records = [
        usage(T0, key_id="key_a", model="m1", upstream="u1"),
        usage(T0 + timedelta(minutes=1), key_id="key_b", model="m2", upstream="u2", endpoint="/v1/messages"),
        usage(T0 + timedelta(minutes=2), key_id="key_a", model="m2", upstream="u2", status=429),
        usage(T0 + timedelta(minutes=3), key_id="key_a", model="m1", upstream="u1", status=500),
    ]
    await storage.usage.insert_many(records)

    async def minutes(**filters: object) -> list[int]:
        found = await storage.usage.query(**filters)  # type: ignore[arg-type]
        unpaged = {name: value for name, value in filters.items() if name not in ("limit", "offset")}
        assert await storage.usage.count(**unpaged) >= len(found)  # type: ignore[arg-type]
        return [int((record.created_at - T0).total_seconds() // 60) for record in found]

    assert await minutes() == [3, 2, 1, 0]
    assert await minutes(key_id="key_a") == [3, 2, 0]
    assert await minutes(model="m2") == [2, 1]
    assert await minutes(model="u1") == [3, 0]  # the upstream name matches too
    assert await minutes(endpoint="/v1/messages") == [1]
    assert await minutes(status=429) == [2]
    assert await minutes(since=T0 + timedelta(minutes=1)) == [3, 2, 1]  # since is inclusive
    assert await minutes(until=T0 + timedelta(minutes=2)) == [1, 0]  # until is exclusive
    assert await minutes(limit=2) == [3, 2]
    assert await minutes(limit=2, offset=2) == [1, 0]
    assert await minutes(key_id="key_a", model="m1", status=500) == [3]
    assert await storage.usage.count() == 4
    assert await storage.usage.count(key_id="key_a", since=T0 + timedelta(seconds=1)) == 2
    assert await storage.usage.count(key_id="nobody") == 0


async def test_query_validates_paging(storage: Storage) -> None:
    with pytest.raises(InvalidRequestError):
        await storage.usage.query(limit=-1)
    with pytest.raises(InvalidRequestError):
        await storage.usage.query(offset=-1)


async def test_summary_groups_by_key_model_and_utc_day(storage: Storage) -> None:
    day1 = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    await storage.usage.insert_many(
        [
            usage(day1 + timedelta(hours=1), key_id="key_a", model="m1", prompt=10, completion=1, latency=100),
            usage(day1 + timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999), model="m1", latency=300),
            usage(
                day1 + timedelta(hours=5), key_id="key_a", model="m1", status=500, prompt=0, completion=0, latency=50
            ),
            usage(day1 + timedelta(days=1), key_id="key_a", model="m1", prompt=7, completion=3),
            usage(day1 + timedelta(hours=2), key_id="key_b", model="m1"),
            usage(day1 + timedelta(hours=2), key_id="key_a", model="m2"),
            # 01:30 at +02:00 is still the previous UTC day
            usage(datetime.fromisoformat("2026-03-11T01:30:00+02:00"), key_id="key_b", model="m1"),
        ]
    )
    rows = await storage.usage.summary()
    table = {(row.key_id, row.model, row.day): row for row in rows}
    assert [(row.day, row.key_id, row.model) for row in rows] == [
        (date(2026, 3, 11), "key_a", "m1"),
        (date(2026, 3, 10), "key_a", "m1"),
        (date(2026, 3, 10), "key_a", "m2"),
        (date(2026, 3, 10), "key_b", "m1"),
    ]
    a1 = table[("key_a", "m1", date(2026, 3, 10))]
    assert (a1.requests, a1.errors, a1.prompt_tokens, a1.completion_tokens) == (3, 1, 20, 6)
    assert a1.total_tokens == 26
    assert a1.avg_latency_ms == pytest.approx(150.0)
    b1 = table[("key_b", "m1", date(2026, 3, 10))]
    assert b1.requests == 2
    later = table[("key_a", "m1", date(2026, 3, 11))]
    assert (later.requests, later.prompt_tokens, later.completion_tokens) == (1, 7, 3)

    only_b = await storage.usage.summary(key_id="key_b")
    assert [(row.key_id, row.requests) for row in only_b] == [("key_b", 2)]
    since_day2 = await storage.usage.summary(since=day1 + timedelta(days=1))
    assert [row.day for row in since_day2] == [date(2026, 3, 11)]
    assert await storage.usage.summary(model="nothing") == []


async def test_timeseries_buckets_align_to_the_epoch(storage: Storage) -> None:
    base = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    await storage.usage.insert_many(
        [
            usage(base + timedelta(seconds=5), prompt=1, completion=1, latency=10),
            usage(base + timedelta(seconds=59, microseconds=900_000), status=500, prompt=2, completion=0, latency=30),
            usage(base + timedelta(minutes=2, seconds=1), prompt=4, completion=4, latency=20),
            usage(base - timedelta(seconds=1), prompt=100),  # before `since`
        ]
    )
    buckets = await storage.usage.timeseries(base, 60)
    assert [bucket.start for bucket in buckets] == [base, base + timedelta(minutes=2)]
    first, second = buckets
    assert (first.requests, first.errors, first.prompt_tokens, first.completion_tokens, first.tokens) == (2, 1, 3, 1, 4)
    assert first.avg_latency_ms == pytest.approx(20.0)
    assert (second.requests, second.errors, second.tokens) == (1, 0, 8)

    hourly = await storage.usage.timeseries(base - timedelta(hours=1), 3600)
    assert [(bucket.start, bucket.requests) for bucket in hourly] == [
        (base - timedelta(hours=1), 1),
        (base, 3),
    ]
    assert await storage.usage.timeseries(base, 60, until=base + timedelta(minutes=1)) == [first]
    assert await storage.usage.timeseries(base, 60, key_id="other") == []
    with pytest.raises(InvalidRequestError):
        await storage.usage.timeseries(base, 0)


async def test_prune_deletes_only_older_records(storage: Storage) -> None:
    await storage.usage.insert_many([usage(T0 - timedelta(days=d)) for d in range(5)])
    assert await storage.usage.prune(T0 - timedelta(days=2)) == 2
    assert await storage.usage.count() == 3
    assert await storage.usage.prune(T0 - timedelta(days=2)) == 0
    assert await storage.usage.prune(T0 + timedelta(seconds=1)) == 3
    assert await storage.usage.query() == []
