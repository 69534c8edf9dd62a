"""The request lifecycle over both stores: states, heartbeats, conflicts, cancellation and ordering."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from ollama_gateway import errors
from ollama_gateway.settings import Settings
from ollama_gateway.tasks import MemoryTaskStore, RedisTaskStore, TaskDocument, TaskStore, TaskTracker
from ollama_gateway.tasks.store import TaskStoreUnavailableError
from tests.tasks.conftest import wait_for, wait_for_stage

HEARTBEAT = 0.05
EXTENSIONS = {"method": "POST", "path": "/v1/chat/completions", "query": "", "stream": True, "model": "m"}


@pytest.fixture
async def tracker(store: TaskStore) -> TaskTracker:
    """A tracker with a fast heartbeat; closed by the test (or left to garbage with no pending work)."""
    return TaskTracker(store, heartbeat_sec=HEARTBEAT, algorithm_id="ollama-openai")


class RecordingStore(MemoryTaskStore):
    """A store whose writes are slow and recorded, to expose ordering problems."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.writes: list[tuple[str, str, int]] = []

    async def put(self, doc: TaskDocument, ttl: int, owner: str | None) -> bool:
        await asyncio.sleep(self.delay)
        self.writes.append((doc["state"], doc["stage"], ttl))
        return await super().put(doc, ttl, owner)


class DownStore(MemoryTaskStore):
    """A store that is down: reads raise the typed error, writes report skipped."""

    async def put(self, doc: TaskDocument, ttl: int, owner: str | None) -> bool:
        return False

    async def get(self, task_id: str) -> TaskDocument | None:
        raise TaskStoreUnavailableError()


async def test_lifecycle_documents(tracker: TaskTracker, store: TaskStore) -> None:
    # Reads go through the tracker's table of unwritten states, so every step is visible at once.
    handle = await tracker.begin("life-1", "key-1", EXTENSIONS)
    pending = await tracker.get("life-1")
    assert pending is not None and (pending["state"], pending["stage"]) == ("PENDING", "accepted")
    assert pending["message"] == "request accepted"
    assert pending["algorithm_id"] == "ollama-openai"
    assert pending["extensions"] == {**EXTENSIONS, "key_id": "key-1"}
    handle.forwarding()
    running = await tracker.get("life-1")
    assert running is not None and (running["state"], running["stage"]) == ("RUNNING", "forwarding")
    assert running["message"] == "forwarding to upstream"
    assert running["event_id"] != pending["event_id"]
    await tracker.flush()
    stored = await store.get("life-1")
    assert stored is not None and stored["state"] == "RUNNING"
    handle.succeed()
    done = await wait_for_stage(store, "life-1", "SUCCESS", "done")
    assert done["message"] == "completed"
    assert isinstance(done["timestamp"], int) and abs(done["timestamp"] - time.time()) < 5
    await tracker.close()


async def test_states_within_one_interval_are_written_once() -> None:
    store = RecordingStore()
    tracker = TaskTracker(store, heartbeat_sec=60, flush_sec=3600)  # the writer never wakes by itself
    handle = await tracker.begin("quick", "k", EXTENSIONS)
    handle.forwarding()
    seen = await tracker.get("quick")
    assert seen is not None and seen["state"] == "RUNNING"  # read-through: true before anything is stored
    listed = await tracker.list("k")
    assert [d["task_id"] for d in listed] == ["quick"] and listed[0]["state"] == "RUNNING"
    assert await tracker.list("someone-else") == []
    assert store.writes == [] and await store.get("quick") is None
    handle.succeed()
    await tracker.flush()
    assert store.writes == [("SUCCESS", "done", 86400)]  # PENDING and RUNNING were superseded unwritten
    assert tracker.unwritten == 0
    await tracker.close()


async def test_a_shared_store_gets_final_states_without_waiting_for_the_interval(redis_url: str) -> None:
    store = RedisTaskStore.from_url(redis_url)
    tracker = TaskTracker(store, heartbeat_sec=60, flush_sec=3600)  # other states wait an hour
    running = await tracker.begin("still-running", "k", {})
    done = await tracker.begin("done-now", "k", {})
    done.succeed()
    # Another gateway process reading Redis sees the end at once; the batch took the other task along.
    doc = await wait_for(lambda: store.get("done-now"), lambda d: d is not None)
    assert doc["state"] == "SUCCESS"
    pending = await store.get("still-running")
    assert pending is not None and pending["state"] == "PENDING"
    running.succeed()
    await tracker.close()
    await store.close()


class GatedStore(RecordingStore):
    """A store whose first write waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def put(self, doc: TaskDocument, ttl: int, owner: str | None) -> bool:
        if not self.entered.is_set():
            self.entered.set()
            await self.gate.wait()
        return await super().put(doc, ttl, owner)


async def test_a_state_recorded_while_its_task_is_being_written_goes_out_in_the_next_batch() -> None:
    store = GatedStore()
    tracker = TaskTracker(store, heartbeat_sec=60, flush_sec=0)  # every change is written at once
    handle = await tracker.begin("mid-write", "k", EXTENSIONS)
    handle.forwarding()
    await store.entered.wait()  # the writer is storing RUNNING (the handle is its own unwritten state)
    handle.succeed()  # recorded while that write is in flight
    seen = await tracker.get("mid-write")
    assert seen is not None and seen["state"] == "SUCCESS"  # read-through sees the newest state at once
    store.gate.set()
    await tracker.flush()
    # The batch in flight kept the document it was built with; the new state went out in the next batch.
    assert store.writes == [("RUNNING", "forwarding", 3600), ("SUCCESS", "done", 86400)]
    stored = await store.get("mid-write")
    assert stored is not None and stored["state"] == "SUCCESS" and stored["extensions"]["model"] == "m"
    assert tracker.unwritten == 0
    await tracker.close()


async def test_many_tasks_are_written_as_one_batch(store: TaskStore) -> None:
    tracker = TaskTracker(store, heartbeat_sec=60, flush_sec=3600)
    handles = [await tracker.begin(f"batch-{i}", "k", {}) for i in range(30)]
    for handle in handles:
        handle.succeed()
    assert tracker.unwritten == 30
    await tracker.flush()
    assert tracker.unwritten == 0
    docs = await store.list("k", limit=100)
    assert sorted(d["task_id"] for d in docs) == sorted(h.task_id for h in handles)
    assert all(d["state"] == "SUCCESS" for d in docs)
    await tracker.close()


async def test_ttls_follow_the_state(redis_url: str, raw_redis: Redis[bytes]) -> None:
    store = RedisTaskStore.from_url(redis_url)
    tracker = TaskTracker(store, Settings(ttl_running=1234, ttl_done=5678, heartbeat_sec=HEARTBEAT))
    handle = await tracker.begin("ttl-1", None, {})
    handle.forwarding()
    await tracker.flush()
    running = await store.get("ttl-1")
    assert running is not None and running["state"] == "RUNNING"
    assert 1224 <= await raw_redis.ttl("ts:ollama:ttl-1") <= 1234
    handle.fail("upstream status 404: model not found")
    done = await wait_for_stage(store, "ttl-1", "FAILED", "error")
    assert done["message"] == "upstream status 404: model not found"
    assert 5668 <= await raw_redis.ttl("ts:ollama:ttl-1") <= 5678
    await tracker.close()
    await store.close()


async def test_heartbeat_on_a_timer_without_any_chunk(tracker: TaskTracker, store: TaskStore) -> None:
    handle = await tracker.begin("hb-1", None, EXTENSIONS)
    handle.forwarding()
    first = await wait_for_stage(store, "hb-1", "RUNNING", "streaming")
    assert first["message"] == "stream alive"
    # And again: each heartbeat is a new event.
    await wait_for(lambda: store.get("hb-1"), lambda d: d is not None and d["event_id"] != first["event_id"])
    handle.succeed()
    await tracker.flush()
    final = await store.get("hb-1")
    assert final is not None and final["state"] == "SUCCESS"
    assert handle._heartbeat is None  # the timer was cancelled with the task's end
    await tracker.close()


async def test_a_heartbeat_never_overwrites_the_final_state() -> None:
    store = RecordingStore(delay=0.02)
    tracker = TaskTracker(store, heartbeat_sec=HEARTBEAT)
    handle = await tracker.begin("order-1", None, {})
    handle.forwarding()
    handle._tick()  # as if the timer fired while earlier writes are still in flight
    handle.succeed()
    handle._tick()  # a late timer tick
    handle.forwarding()
    handle.fail("too late")
    await tracker.flush()
    assert store.writes[-1] == ("SUCCESS", "done", 86400)
    assert all(state != "SUCCESS" for state, _, _ in store.writes[:-1])
    final = await store.get("order-1")
    assert final is not None and final["state"] == "SUCCESS"
    await tracker.close()


async def test_heartbeats_racing_the_final_write_lose(tracker: TaskTracker, store: TaskStore) -> None:
    handles = [await tracker.begin(f"race-{i}", None, {}) for i in range(10)]
    for handle in handles:
        handle.forwarding()
    await asyncio.gather(*(wait_for_stage(store, h.task_id, "RUNNING", "streaming") for h in handles))
    for i, handle in enumerate(handles):
        if i % 2:
            handle.succeed()
        else:
            handle.fail("client disconnected")
    await tracker.flush()
    docs = await store.list(None, limit=50)
    assert len(docs) == 10
    assert all(d["state"] in ("SUCCESS", "FAILED") for d in docs)
    await tracker.close()


async def test_reusing_a_running_id_is_a_conflict_and_allowed_once_done(tracker: TaskTracker, store: TaskStore) -> None:
    handle = await tracker.begin("dup", "k", {})
    with pytest.raises(errors.ConflictError) as caught:
        await tracker.begin("dup", "k", {})
    assert caught.value.http_status == 409
    handle.forwarding()
    with pytest.raises(errors.ConflictError):
        await tracker.begin("dup", "k", {})
    handle.succeed()
    again = await tracker.begin("dup", "k", {})  # straight away: this process knows the task ended
    await tracker.flush()
    doc = await store.get("dup")
    assert doc is not None and doc["state"] == "PENDING"
    again.succeed()
    await tracker.close()


async def test_concurrent_begins_with_one_id_admit_exactly_one(tracker: TaskTracker) -> None:
    results = await asyncio.gather(*(tracker.begin("same", None, {}) for _ in range(5)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert sum(isinstance(r, errors.ConflictError) for r in results) == 4
    await tracker.close()


async def test_an_id_running_in_another_process_is_a_conflict(store: TaskStore) -> None:
    first = TaskTracker(store, heartbeat_sec=HEARTBEAT)
    second = TaskTracker(store, heartbeat_sec=HEARTBEAT)
    handle = await first.begin("shared", "k", {})
    handle.forwarding()
    await first.flush()
    with pytest.raises(errors.ConflictError):
        await second.begin("shared", "k", {})
    handle.succeed()
    await first.flush()
    reused = await second.begin("shared", "k", {})
    reused.succeed()
    await first.close()
    await second.close()


async def test_a_stale_running_document_does_not_block_its_id(store: TaskStore) -> None:
    now = [1_700_000_000.0]
    crashed = TaskTracker(store, heartbeat_sec=10, clock=lambda: now[0])
    await crashed.begin("orphan", "k", {})  # never finishes: its gateway "died"
    await crashed.flush()
    now[0] += 61
    survivor = TaskTracker(store, heartbeat_sec=10, clock=lambda: now[0])
    handle = await survivor.begin("orphan", "k", {})
    handle.succeed()
    await survivor.close()
    crashed._active.clear()


@pytest.mark.parametrize("flushed", [True, False], ids=["per-store", "per-process"])
async def test_another_key_cannot_take_over_a_finished_id(tracker: TaskTracker, flushed: bool) -> None:
    handle = await tracker.begin("mine", "alice", {})
    handle.succeed()
    if flushed:
        await tracker.flush()
    with pytest.raises(errors.ConflictError):
        await tracker.begin("mine", "bob", {})
    admin = await tracker.begin("mine", None, {})
    admin.succeed()
    await tracker.close()


async def test_final_state_is_written_although_the_request_is_cancelled(store: TaskStore) -> None:
    tracker = TaskTracker(store, heartbeat_sec=HEARTBEAT)
    started = asyncio.Event()

    async def request() -> None:
        handle = await tracker.begin("gone", "k", EXTENSIONS)
        handle.bind(asyncio.current_task() or pytest.fail("no task"))
        try:
            handle.forwarding()
            started.set()
            await asyncio.sleep(3600)  # a long silent prompt evaluation
            handle.succeed()
        except BaseException as exc:
            handle.finish(exc)
            raise

    task = asyncio.create_task(request())
    await started.wait()
    task.cancel()  # the client disconnected
    with pytest.raises(asyncio.CancelledError):
        await task
    doc = await wait_for_stage(store, "gone", "FAILED", "error")
    assert doc["message"] == "client disconnected"
    await tracker.close()


async def test_cancel_by_owner_or_admin(tracker: TaskTracker, store: TaskStore) -> None:
    ready = asyncio.Event()

    async def request(task_id: str) -> None:
        handle = await tracker.begin(task_id, "alice", {})
        handle.bind(asyncio.current_task() or pytest.fail("no task"))
        handle.forwarding()
        ready.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError as exc:
            handle.finish(exc)
            raise

    task = asyncio.create_task(request("c1"))
    await ready.wait()
    assert await tracker.cancel("c1", "bob") is False
    assert await tracker.cancel("unknown", "alice") is False
    assert await tracker.cancel("c1", "alice") is True
    with pytest.raises(asyncio.CancelledError):
        await task
    doc = await wait_for_stage(store, "c1", "FAILED", "error")
    assert doc["message"] == "cancelled"  # not overwritten by the request's own "client disconnected"
    assert await tracker.cancel("c1", "alice") is False  # already over

    ready.clear()
    task = asyncio.create_task(request("c2"))
    await ready.wait()
    assert await tracker.cancel("c2", None) is True
    with pytest.raises(asyncio.CancelledError):
        await task
    await tracker.close()


async def test_cancel_with_a_callback_and_without_a_binding(tracker: TaskTracker, store: TaskStore) -> None:
    unbound = await tracker.begin("u", None, {})
    assert await tracker.cancel("u", None) is False
    calls: list[str] = []
    bound = await tracker.begin("b", None, {})
    bound.bind(lambda: calls.append("cancelled"))
    assert await tracker.cancel("b", None) is True
    assert calls == ["cancelled"] and bound.done and bound.state == "FAILED"
    unbound.succeed()
    await tracker.close()


async def test_close_fails_running_tasks_and_stops_heartbeats(tracker: TaskTracker, store: TaskStore) -> None:
    handle = await tracker.begin("left", None, {})
    handle.forwarding()
    await tracker.close()
    doc = await store.get("left")
    assert doc is not None and doc["state"] == "FAILED" and doc["message"] == "gateway shutting down"
    assert handle._heartbeat is None and tracker.unwritten == 0


async def test_a_handle_never_finished_gives_up_after_ttl_running(store: TaskStore) -> None:
    tracker = TaskTracker(store, heartbeat_sec=0.01, ttl_running=0)
    handle = await tracker.begin("leaked", None, {})
    handle.forwarding()
    doc = await wait_for_stage(store, "leaked", "FAILED", "error")
    assert doc["message"] == "timeout"
    assert tracker.running("leaked") is None
    await tracker.close()


async def test_flush_returns_while_heartbeats_go_on(tracker: TaskTracker, store: TaskStore) -> None:
    handle = await tracker.begin("long", None, {})
    handle.forwarding()
    await wait_for_stage(store, "long", "RUNNING", "streaming")
    await tracker.flush()
    assert tracker.running("long") is handle
    await tracker.close()


async def test_a_down_store_never_raises_into_the_request() -> None:
    tracker = TaskTracker(DownStore(), heartbeat_sec=HEARTBEAT, final_retry_sec=0.01, final_retry_window=0.05)
    handle = await tracker.begin("x", "k", {})
    handle.forwarding()
    handle.succeed()
    await tracker.flush()
    assert handle.state == "SUCCESS"
    await tracker.close()


async def test_reads_while_the_store_is_down_see_what_this_process_knows() -> None:
    class Refusing(DownStore):
        attempted = asyncio.Event()

        async def put(self, doc: TaskDocument, ttl: int, owner: str | None) -> bool:
            self.attempted.set()
            return False

    store = Refusing()
    tracker = TaskTracker(store, heartbeat_sec=60, flush_sec=0, final_retry_sec=3600, final_retry_window=3600)
    handle = await tracker.begin("known", "k", {})
    handle.succeed()
    await store.attempted.wait()  # written once, refused: kept for a retry an hour from now
    doc = await tracker.get("known")
    assert doc is not None and doc["state"] == "SUCCESS"
    with pytest.raises(TaskStoreUnavailableError):
        await tracker.get("unknown")
    await tracker.close(grace_sec=0.05)
