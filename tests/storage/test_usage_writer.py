"""The batch writer: O(1) submit, flush by size or time, retry after failures, nothing lost on close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from ollama_gateway.storage import Storage, UsageRecord, UsageWriter

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def record(n: int) -> UsageRecord:
    return UsageRecord(
        created_at=T0 + timedelta(milliseconds=n),
        key_id="key_a",
        model_requested="m",
        model_upstream="m:latest",
        endpoint="/v1/chat/completions",
        status=200,
        prompt_tokens=n,
    )


class FakeSink:
    """Records every batch; fails the first `failures` calls; signals each call."""

    def __init__(self, failures: int = 0) -> None:
        self.batches: list[list[UsageRecord]] = []
        self.calls = 0
        self.failures = failures
        self.changed = asyncio.Condition()
        self.gate: asyncio.Event | None = None  # when set, each call waits for it before answering

    async def insert_many(self, records: Sequence[UsageRecord]) -> int:
        self.calls += 1
        async with self.changed:
            self.changed.notify_all()
        if self.gate is not None:
            await self.gate.wait()
        if self.calls <= self.failures:
            raise ConnectionError("database down")
        self.batches.append(list(records))
        return len(records)

    @property
    def written(self) -> list[int]:
        return [r.prompt_tokens for batch in self.batches for r in batch]

    async def wait_for_calls(self, count: int) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(lambda: self.calls >= count)


async def test_submit_only_buffers() -> None:
    sink = FakeSink()
    writer = UsageWriter(sink, flush_seconds=3600)
    writer.start()
    for n in range(10):
        assert writer.submit(record(n)) is None  # type: ignore[func-returns-value]
    assert sink.calls == 0 and writer.pending == 10
    await writer.close()
    assert sink.written == list(range(10))


async def test_flush_writes_in_batches_and_keeps_order() -> None:
    sink = FakeSink()
    writer = UsageWriter(sink, flush_seconds=3600, batch_size=4)
    for n in range(10):
        writer.submit(record(n))
    assert await writer.flush() == 10
    assert [len(batch) for batch in sink.batches] == [4, 4, 2]
    assert sink.written == list(range(10))
    assert await writer.flush() == 0
    assert writer.pending == 0 and writer.written == 10
    await writer.close()


async def test_a_full_batch_wakes_the_background_flusher() -> None:
    sink = FakeSink()
    async with UsageWriter(sink, flush_seconds=3600, batch_size=3) as writer:
        writer.submit(record(0))
        writer.submit(record(1))
        writer.submit(record(2))
        await sink.wait_for_calls(1)
    assert sink.written == [0, 1, 2]


async def test_the_background_flusher_runs_on_a_timer() -> None:
    sink = FakeSink()
    async with UsageWriter(sink, flush_seconds=0.01, batch_size=100) as writer:
        writer.submit(record(7))
        await sink.wait_for_calls(1)
        assert sink.written == [7]


async def test_a_failed_flush_keeps_the_records_for_the_next_round() -> None:
    sink = FakeSink(failures=1)
    writer = UsageWriter(sink, flush_seconds=3600, batch_size=2)
    for n in range(5):
        writer.submit(record(n))
    with pytest.raises(ConnectionError):
        await writer.flush()
    assert writer.pending == 5
    writer.submit(record(5))
    assert await writer.flush() == 6
    assert sink.written == [0, 1, 2, 3, 4, 5]
    await writer.close()


async def test_background_failures_are_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    sink = FakeSink(failures=1)
    async with UsageWriter(sink, flush_seconds=0.01) as writer:
        writer.submit(record(1))
        await sink.wait_for_calls(2)  # the failure, then the retry
        assert sink.written == [1]
    assert any("usage flush failed" in message for message in caplog.messages)


async def test_the_buffer_is_bounded_dropping_the_oldest(caplog: pytest.LogCaptureFixture) -> None:
    sink = FakeSink()
    writer = UsageWriter(sink, flush_seconds=3600, batch_size=2, max_buffered=5)
    with caplog.at_level(logging.WARNING):
        for n in range(8):
            writer.submit(record(n))
    assert (writer.pending, writer.dropped) == (5, 3)
    assert sum("dropping usage records" in message for message in caplog.messages) == 1
    await writer.close()
    assert sink.written == [3, 4, 5, 6, 7]


async def test_records_submitted_after_close_are_counted_as_dropped() -> None:
    sink = FakeSink()
    writer = UsageWriter(sink, flush_seconds=3600)
    await writer.close()
    await writer.close()  # idempotent
    writer.submit(record(1))
    assert writer.dropped == 1 and sink.calls == 0
    with pytest.raises(RuntimeError):
        writer.start()


async def test_close_logs_what_it_could_not_write(caplog: pytest.LogCaptureFixture) -> None:
    sink = FakeSink(failures=10)
    writer = UsageWriter(sink, flush_seconds=3600)
    writer.submit(record(1))
    await writer.close()
    assert writer.pending == 1
    assert any("could not write 1 usage records" in message for message in caplog.messages)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        UsageWriter(FakeSink(), flush_seconds=0)
    with pytest.raises(ValueError):
        UsageWriter(FakeSink(), batch_size=10, max_buffered=5)


async def test_close_flushes_everything_into_the_database(storage: Storage) -> None:
    writer = UsageWriter(storage.usage, flush_seconds=3600, batch_size=250)
    writer.start()
    for n in range(1000):
        writer.submit(record(n))
    await writer.close()
    assert await storage.usage.count() == 1000
    newest = await storage.usage.query(limit=1)
    assert newest[0].prompt_tokens == 999


async def test_records_restored_after_a_failure_still_respect_the_cap() -> None:
    sink = FakeSink(failures=1)
    sink.gate = asyncio.Event()
    writer = UsageWriter(sink, flush_seconds=3600, batch_size=2, max_buffered=3)
    for n in range(3):
        writer.submit(record(n))
    flushing = asyncio.ensure_future(writer.flush())
    await sink.wait_for_calls(1)  # the batch [0, 1] is out of the buffer, its write about to fail...
    writer.submit(record(3))  # ...while new records fill the buffer: [2, 3, 4]
    writer.submit(record(4))
    assert (writer.pending, writer.dropped) == (3, 0)
    sink.gate.set()
    with pytest.raises(ConnectionError):
        await flushing
    # [0, 1] went back in front, over the cap of 3: the two oldest are dropped.
    assert (writer.pending, writer.dropped) == (3, 2)
    await writer.close()
    assert sink.written == [2, 3, 4]
