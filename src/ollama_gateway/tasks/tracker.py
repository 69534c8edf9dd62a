"""The per-request task lifecycle: PENDING → RUNNING (+ heartbeats) → SUCCESS | FAILED, written off the request path
by one coalescing writer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from ollama_gateway import errors
from ollama_gateway.settings import Settings
from ollama_gateway.tasks.document import (
    ACCEPTED,
    ACTIVE_STATES,
    DONE,
    ERROR_STAGE,
    FORWARDING,
    QUEUED_STAGE,
    STREAMING,
    TaskDocument,
    TaskState,
    failure_reason,
    is_final,
    queued_message,
    visible_to,
)
from ollama_gateway.tasks.store import LIST_LIMIT_DEFAULT, TaskStore, clamp_limit
from ollama_gateway.tasks.writer import Change, StatusWriter

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TTL_RUNNING: Final = 3600
DEFAULT_TTL_DONE: Final = 86_400
DEFAULT_HEARTBEAT_SEC: Final = 10.0
DEFAULT_FLUSH_SEC: Final = 0.05
DEFAULT_ALGORITHM_ID: Final = "ollama-openai"
SHUTDOWN_REASON: Final = "gateway shutting down"


class TaskHandle(Change):
    """One request's task; every method is synchronous and cheap, the writes happen in the background.

    The handle is also the task's newest unwritten state (a `Change`), which the writer stores and status reads
    see until it is stored: `state` is the state last recorded.
    """

    __slots__ = ("_cancel", "_give_up", "_heartbeat", "_tracker")

    def __init__(self, tracker: TaskTracker, task_id: str, owner: str | None, extensions: dict[str, Any]) -> None:
        super().__init__(task_id, owner, extensions, "PENDING", "", "", 0.0, 0)
        self._tracker = tracker
        self._heartbeat: asyncio.TimerHandle | None = None
        self._give_up = 0.0
        self._cancel: Callable[[], object] | None = None

    @property
    def done(self) -> bool:
        """True once SUCCESS or FAILED was recorded; later calls are ignored."""
        return self.state not in ACTIVE_STATES

    def queued(self, ahead: int) -> None:
        """PENDING/queued with the number of requests ahead of this one; each new position is recorded."""
        if self.state == "PENDING":
            self._record("PENDING", QUEUED_STAGE, queued_message(ahead))

    def forwarding(self) -> None:
        """RUNNING/forwarding, and start the heartbeat timer (RUNNING/streaming every heartbeat_sec)."""
        if self.done or self._heartbeat is not None:
            return
        self._record(*FORWARDING)
        if not self._tracker.recording:
            return
        # A handle nobody finished (a bug in the caller) would beat, and hold its id, forever; once its
        # document could have expired anyway, end it.
        self._give_up = time.monotonic() + self._tracker.ttl_running
        self._heartbeat = self._tracker._schedule_beat(self)

    def succeed(self) -> None:
        """SUCCESS/done; stops the heartbeat. Ignored if the task already ended."""
        if not self.done:
            self._finish(*DONE)

    def fail(self, reason: str) -> None:
        """FAILED/error with `reason` as the message; stops the heartbeat. Ignored if the task already ended."""
        if not self.done:
            self._finish("FAILED", ERROR_STAGE, reason or "error")

    def finish(self, exc: BaseException | None = None) -> None:
        """succeed() when `exc` is None, else fail() with the reason for that exception (for `finally` blocks)."""
        if exc is None:
            self.succeed()
        else:
            self.fail(failure_reason(exc))

    def bind(self, target: asyncio.Task[Any] | Callable[[], object]) -> None:
        """What `tracker.cancel` stops: the request's asyncio.Task, or a callback that cancels it."""
        self._cancel = target.cancel if isinstance(target, asyncio.Task) else target

    def _tick(self) -> None:
        # A loop timer, not a task per request: heartbeats cost nothing while nothing is due.
        self._heartbeat = None
        if self.done:
            return
        if time.monotonic() >= self._give_up:
            self.fail("timeout")
            return
        self._record(*STREAMING)
        self._heartbeat = self._tracker._schedule_beat(self)

    def _finish(self, state: TaskState, stage: str, message: str) -> None:
        self._record(state, stage, message)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        self._tracker._release(self)

    def _record(self, state: TaskState, stage: str, message: str) -> None:
        tracker = self._tracker
        if tracker.recording:
            tracker._writes.record(self, state, stage, message)
        else:
            self.state = state


class TaskTracker:
    """Drives task status for every request; status writes never block, fail or outlive `close()`.

    Every state change goes to the coalescing `StatusWriter` (see `tasks.writer` for how it batches). Reads
    go through the writer's table first (`get`, `list`), so a status read in this process always sees the
    truth, even before the state is stored.
    """

    def __init__(
        self,
        store: TaskStore,
        settings: Settings | None = None,
        *,
        ttl_running: int | None = None,
        ttl_done: int | None = None,
        heartbeat_sec: float | None = None,
        algorithm_id: str | None = None,
        flush_sec: float | None = None,
        final_retry_sec: float = 1.0,
        final_retry_window: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        s = settings
        self.store = store
        self.ttl_running = _first(ttl_running, None if s is None else s.ttl_running, DEFAULT_TTL_RUNNING)
        self.ttl_done = _first(ttl_done, None if s is None else s.ttl_done, DEFAULT_TTL_DONE)
        self.heartbeat_sec = _first(heartbeat_sec, None if s is None else s.heartbeat_sec, DEFAULT_HEARTBEAT_SEC)
        self.algorithm_id = _first(algorithm_id, None if s is None else s.algorithm_id, DEFAULT_ALGORITHM_ID)
        self.flush_sec = _first(flush_sec, None if s is None else s.task_flush_seconds, DEFAULT_FLUSH_SEC)
        # TASK_STATUS=off: handles still reserve their ids (conflicts, cancel) but record nothing.
        self.recording = s is None or s.task_status != "off"
        # A PENDING/RUNNING document older than this was left by a gateway that died: its id may be reused.
        self.stale_after = max(3 * self.heartbeat_sec, 60.0)
        self._clock = clock
        self._active: dict[str, TaskHandle] = {}
        self._writes = StatusWriter(
            store,
            algorithm_id=self.algorithm_id,
            ttl_running=self.ttl_running,
            ttl_done=self.ttl_done,
            flush_sec=self.flush_sec,
            final_retry_sec=final_retry_sec,
            final_retry_window=final_retry_window,
            clock=clock,
        )

    async def begin(
        self, task_id: str, owner: str | None, extensions: Mapping[str, Any] | None = None, *, generated: bool = False
    ) -> TaskHandle:
        """Record PENDING/accepted; ConflictError if the id is PENDING/RUNNING here or per the store.

        `generated` says the gateway made the id itself (a fresh UUID4), so the store need not be asked.
        """
        if task_id in self._active:
            raise _conflict(task_id)
        handle = TaskHandle(self, task_id, owner, {**(extensions or {}), "key_id": owner})
        self._active[task_id] = handle  # reserved before the first await, so a concurrent begin sees it
        try:
            # A state not yet stored means this process ended the task last and knows better than the store.
            if generated:  # a fresh UUID4: nobody can hold it
                taken = False
            elif (change := self._writes.unwritten(task_id)) is not None:
                taken = owner is not None and change.owner != owner
            else:
                taken = self._taken_in_store(await self._read(task_id), owner)
            if taken:
                raise _conflict(task_id)
        except BaseException:
            del self._active[task_id]
            raise
        handle._record(*ACCEPTED)
        return handle

    def running(self, task_id: str) -> TaskHandle | None:
        """The live handle for `task_id` in this process, if any."""
        return self._active.get(task_id)

    async def get(self, task_id: str) -> TaskDocument | None:
        """The task's current document: this process's unwritten state if it has one, else the store's."""
        change = self._writes.unwritten(task_id)
        if change is not None:
            return change.document(self.algorithm_id)
        return await self.store.get(task_id)

    async def list(self, owner: str | None, limit: int = LIST_LIMIT_DEFAULT) -> list[TaskDocument]:
        """Newest first, `limit` clamped to 1..500, the unwritten states of this process included."""
        limit = clamp_limit(limit)
        stored = await self.store.list(owner, limit)
        changes = self._writes.pending()
        if not changes:
            return stored
        fresh = [c for c in reversed(changes) if owner is None or c.owner == owner][:limit]
        unwritten = {c.task_id for c in changes}
        docs = [c.document(self.algorithm_id) for c in fresh]
        return [*docs, *(d for d in stored if d["task_id"] not in unwritten)][:limit]

    async def cancel(self, task_id: str, owner: str | None) -> bool:
        """Cancel a request running here and record FAILED/cancelled; False if not running here or not `owner`'s."""
        handle = self._active.get(task_id)
        if handle is None or handle._cancel is None or (owner is not None and handle.owner != owner):
            return False
        cancel = handle._cancel
        handle.fail("cancelled")  # first, so the request's own "client disconnected" is ignored
        try:
            cancel()
        except Exception:
            log.exception("task %s: cancel callback failed", task_id)
        return True

    def cancel_all(self, reason: str = SHUTDOWN_REASON) -> int:
        """Record FAILED `reason` for every request running here and cancel it; returns how many were cancelled."""
        cancelled = 0
        for handle in list(self._active.values()):
            cancel = handle._cancel
            handle.fail(reason)
            if cancel is None:
                continue
            try:
                cancel()
            except Exception:
                log.exception("task %s: cancel callback failed", handle.task_id)
            cancelled += 1
        return cancelled

    @property
    def unwritten(self) -> int:
        """How many tasks have a state not yet stored (waiting, being written, or retried)."""
        return self._writes.count

    async def flush(self) -> None:
        """Wait until every state change recorded so far has been attempted (including bounded final retries).

        Heartbeats recorded meanwhile are not waited for, so this returns while long requests go on.
        """
        await self._writes.flush()

    async def close(self, grace_sec: float = 5.0) -> None:
        """Fail requests still running, stop heartbeats, and wait (bounded) for the pending final writes."""
        for handle in list(self._active.values()):
            handle.fail(SHUTDOWN_REASON)
        try:
            await asyncio.wait_for(self.flush(), grace_sec)
        except TimeoutError:
            log.warning("task status: %d states not written at shutdown", self.unwritten)
        await self._writes.close()

    # -- used by TaskHandle ------------------------------------------------------------------------------------

    def _release(self, handle: TaskHandle) -> None:
        if self._active.get(handle.task_id) is handle:
            del self._active[handle.task_id]

    def _schedule_beat(self, handle: TaskHandle) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(self.heartbeat_sec, handle._tick)

    # -- the writer --------------------------------------------------------------------------------------------

    async def _read(self, task_id: str) -> TaskDocument | None:
        try:
            return await self.store.get(task_id)
        except Exception as exc:  # the store being down must not refuse the request
            log.debug("task %s: store unreadable, id assumed free: %s", task_id, exc)
            return None

    def _taken_in_store(self, doc: TaskDocument | None, owner: str | None) -> bool:
        if doc is None:
            return False
        if not is_final(doc):
            return self._clock() - doc["timestamp"] <= self.stale_after
        # A finished task may be reused by its owner (or the admin), never overwritten by another key.
        return not visible_to(doc, owner)


def _first(explicit: T | None, configured: T | None, default: T) -> T:
    if explicit is not None:
        return explicit
    return configured if configured is not None else default


def _conflict(task_id: str) -> errors.ConflictError:
    return errors.ConflictError(f"task id {task_id!r} is already in use", param="X-Task-Id", code="task_id_in_use")
