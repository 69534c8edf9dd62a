"""The one writer of task status: the newest unwritten state of each task in a table, stored in batches.

A state change only replaces its task's entry in the table; the writer stores the table every `flush_sec`
in one batch (`TaskStore.put_many`), so a request that ends within one interval is stored once, as its final
state. With a store other processes read (`TaskStore.shared`, Redis), final states go out with the next
batch at once. A final state the store refused is retried (bounded by `final_retry_window`) unless a newer
state of the task supersedes it. Documents, and their event ids, are built only when they are needed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from ollama_gateway.tasks.document import ACTIVE_STATES, TaskDocument, TaskState, build_document
from ollama_gateway.tasks.store import TaskStore

log = logging.getLogger(__name__)


class Change:
    """The newest unwritten state of one task; its document (and event id) is built only once it is needed.

    A live request's `TaskHandle` is its own change: `StatusWriter.record` updates it in place, so a state
    change on the request path allocates nothing.
    """

    __slots__ = ("_doc", "at", "extensions", "message", "owner", "seq", "stage", "state", "task_id")

    def __init__(
        self,
        task_id: str,
        owner: str | None,
        extensions: dict[str, Any],
        state: TaskState,
        stage: str,
        message: str,
        at: float,
        seq: int,
    ) -> None:
        self.task_id = task_id
        self.owner = owner
        self.extensions = extensions
        self.state = state
        self.stage = stage
        self.message = message
        self.at = at
        self.seq = seq
        self._doc: TaskDocument | None = None

    def document(self, algorithm_id: str) -> TaskDocument:
        if self._doc is None:
            self._doc = build_document(
                task_id=self.task_id,
                state=self.state,
                stage=self.stage,
                message=self.message,
                extensions=self.extensions,
                algorithm_id=algorithm_id,
                now=self.at,
            )
        return self._doc

    @property
    def final(self) -> bool:
        return self.state not in ACTIVE_STATES


class StatusWriter:
    """Coalesces state changes per task and stores them off the request path."""

    def __init__(
        self,
        store: TaskStore,
        *,
        algorithm_id: str,
        ttl_running: int,
        ttl_done: int,
        flush_sec: float,
        final_retry_sec: float,
        final_retry_window: float,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.algorithm_id = algorithm_id
        self.ttl_running = ttl_running
        self.ttl_done = ttl_done
        self.flush_sec = flush_sec
        self._final_retry_sec = final_retry_sec
        self._final_retry_window = final_retry_window
        self._clock = clock
        self._seq = 0  # numbers every state change, so `flush` knows what "recorded so far" means
        self._dirty: dict[str, Change] = {}  # newest unwritten state per task
        self._writing: dict[str, Change] = {}  # the batch being stored right now
        self._retrying: dict[str, tuple[Change, float]] = {}  # final states the store refused, and until when
        self._written_seq = 0  # every change numbered up to this was attempted
        self._writer: asyncio.Task[None] | None = None
        self._wake: asyncio.Future[None] | None = None  # resolved to end the writer's wait early
        self._idle: asyncio.Event | None = None  # set while the writer has nothing to write
        self._waiting_for_work = False
        # Other processes read a shared store: a final state goes out with the next write, not after the
        # interval (writes still batch: whatever gathers while one is in flight goes out together).
        self._eager_finals = store.shared
        self._final_waiting = False
        self._retry_at = 0.0
        self._closed = False

    def record(self, change: Change, state: TaskState, stage: str, message: str) -> None:
        """Make `state` the task's newest (updating `change` in place); it is stored with the next batch.

        A batch being written built its documents when it started, so an update meanwhile is not lost: it puts
        the change back in the table, for the next batch.
        """
        self._seq += 1
        change.state, change.stage, change.message = state, stage, message
        change.at, change.seq, change._doc = self._clock(), self._seq, None
        self._dirty[change.task_id] = change
        if self._writer is None and not self._closed:
            self._idle = asyncio.Event()
            self._idle.set()
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        if self._eager_finals and state not in ACTIVE_STATES:
            self._final_waiting = True
            self._nudge()
        elif self._waiting_for_work:
            self._nudge()

    @property
    def count(self) -> int:
        """How many tasks have a state not yet stored (waiting, being written, or retried)."""
        return len(self._dirty.keys() | self._writing.keys() | self._retrying.keys())

    async def flush(self) -> None:
        """Wait until every state change recorded so far has been attempted (including bounded final retries).

        Heartbeats recorded meanwhile are not waited for, so this returns while long requests go on.
        """
        target = self._seq
        while self._writer is not None and not self._writer.done():
            if self._written_seq >= target and not any(c.seq <= target for c, _ in self._retrying.values()):
                return
            assert self._idle is not None
            self._idle.clear()
            if self._dirty:
                self._nudge()  # write now instead of after the interval; a pending retry keeps its own time
            await self._idle.wait()

    async def close(self) -> None:
        """Stop the writer (call `flush` first for what is still unwritten)."""
        self._closed = True
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            await asyncio.wait([writer])

    def unwritten(self, task_id: str) -> Change | None:
        """The task's state not yet stored (waiting, being written, or to be retried), if any."""
        change = self._dirty.get(task_id) or self._writing.get(task_id)
        if change is None and task_id in self._retrying:
            change = self._retrying[task_id][0]
        return change

    def pending(self) -> list[Change]:
        """Every state not yet stored, oldest change first."""
        changes = {c.task_id: c for c in (*(c for c, _ in self._retrying.values()), *self._writing.values())}
        changes.update(self._dirty)
        return sorted(changes.values(), key=lambda c: c.seq)

    def _nudge(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _nap(self, seconds: float | None) -> None:
        """Wait `seconds` (None: until nudged), or less if `_nudge` is called."""
        loop = asyncio.get_running_loop()
        self._wake = loop.create_future()
        timer = None if seconds is None else loop.call_later(seconds, self._nudge)
        try:
            await self._wake
        finally:
            if timer is not None:
                timer.cancel()
            self._wake = None

    async def _write_loop(self) -> None:
        """The one writer: stores the table of unwritten states, one batch per `flush_sec`."""
        assert self._idle is not None
        idle = self._idle
        while True:
            if not self._dirty:
                idle.set()
                self._waiting_for_work = True
                try:
                    await self._nap(max(0.0, self._retry_at - time.monotonic()) if self._retrying else None)
                finally:
                    self._waiting_for_work = False
                self._requeue_retries()
                continue
            # Let changes gather for one interval (unless `flush` waits): a request that ends meanwhile is
            # written once, as its final state.
            if self.flush_sec > 0 and idle.is_set() and not self._final_waiting:
                await self._nap(self.flush_sec)
            batch, self._dirty = self._dirty, {}
            self._final_waiting = False
            seq = self._seq
            self._writing = batch
            try:
                await self._write(list(batch.values()))
            finally:
                self._writing = {}
            self._written_seq = seq

    async def _write(self, batch: list[Change]) -> None:
        ttl = self.ttl_done, self.ttl_running
        items = [(c.document(self.algorithm_id), ttl[0] if c.final else ttl[1], c.owner) for c in batch]
        try:
            written = await self.store.put_many(items)
        except Exception:
            log.exception("task status: writing %d states failed", len(items))
            written = [False] * len(items)
        now = time.monotonic()
        for change, ok in zip(batch, written, strict=True):
            if ok or not change.final or change.task_id in self._dirty:  # done, not worth retrying, or superseded
                self._retrying.pop(change.task_id, None)
                continue
            # A lost final state would leave the task RUNNING for an hour: retry it while the store recovers.
            _, until = self._retrying.get(change.task_id, (change, now + self._final_retry_window))
            if now < until:
                self._retrying[change.task_id] = (change, until)
                self._retry_at = now + self._final_retry_sec
            else:
                self._retrying.pop(change.task_id, None)

    def _requeue_retries(self) -> None:
        now = time.monotonic()
        if not self._retrying or now < self._retry_at:
            return
        for task_id, (change, until) in list(self._retrying.items()):
            newer = self._dirty.get(task_id)
            if (newer is not None and newer is not change) or now >= until:
                del self._retrying[task_id]
            else:
                self._dirty[task_id] = change
