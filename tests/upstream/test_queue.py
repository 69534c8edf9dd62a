"""The fair queue: fast path, fairness across owners, FIFO within one, positions, bound, timeout, cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ollama_gateway.errors import GatewayBusyError
from ollama_gateway.tasks.document import queued_message
from ollama_gateway.upstream.queue import FairQueue, QueueFullError, QueueTimeoutError

DEADLINE = 5.0


class Pool:
    """Numbered slots; `take` is a waiter's try_take, `free` gives one back (the fleet would then notify)."""

    def __init__(self, size: int = 0) -> None:
        self.free_slots = list(range(size))
        self.next_id = size
        self.taken: list[int] = []
        self.calls = 0

    def take(self) -> int | None:
        self.calls += 1
        if not self.free_slots:
            return None
        slot = self.free_slots.pop(0)
        self.taken.append(slot)
        return slot

    def add(self) -> None:
        self.free_slots.append(self.next_id)
        self.next_id += 1

    def give_back(self, slot: int) -> None:
        self.taken.remove(slot)
        self.free_slots.append(slot)


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until `condition` holds; fail past the deadline."""
    async with asyncio.timeout(DEADLINE):
        while not condition():
            await asyncio.sleep(0)


async def enqueue(queue: FairQueue[Any], owner: str, try_take: Callable[[], Any], **kw: Any) -> asyncio.Task[Any]:
    """Start an acquire and return once it is in the line."""
    before = queue.waiting_for(owner)
    task = asyncio.create_task(queue.acquire(owner, try_take, **kw))
    await until(lambda: queue.waiting_for(owner) > before or task.done())
    return task


def test_fast_path_returns_without_yielding() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=0, timeout_seconds=1)
    coro = queue.acquire("a", Pool(1).take)
    with pytest.raises(StopIteration) as done:  # finished in its first step: no event loop, no await
        coro.send(None)
    assert done.value.value == 0


async def test_owner_with_one_request_is_not_starved_by_another_with_500() -> None:
    queue: FairQueue[str] = FairQueue(max_waiting=1000, timeout_seconds=DEADLINE)
    free = [0]
    served: list[str] = []

    def take(owner: str) -> str | None:
        if free[0] == 0:
            return None
        free[0] -= 1
        served.append(owner)
        return owner

    tasks_a = [await enqueue(queue, "A", lambda: take("A")) for _ in range(500)]
    task_b = await enqueue(queue, "B", lambda: take("B"))
    assert (queue.waiting, queue.waiting_for("A"), queue.waiting_for("B")) == (501, 500, 1)
    for _ in range(2):  # two requests finish, one slot each
        free[0] += 1
        queue.notify()
    assert served == ["A", "B"]
    assert await task_b == "B" and queue.waiting_for("A") == 499
    for task in tasks_a:
        task.cancel()
    await asyncio.gather(*tasks_a, return_exceptions=True)
    assert queue.waiting == 0


async def test_turns_alternate_between_owners_fifo_within_each() -> None:
    queue: FairQueue[str] = FairQueue(max_waiting=100, timeout_seconds=DEADLINE)
    order: list[str] = []
    available = [0]

    def taker(label: str) -> Callable[[], str | None]:
        def take() -> str | None:
            if available[0] == 0:
                return None
            available[0] -= 1
            order.append(label)
            return label

        return take

    tasks = [await enqueue(queue, "A", taker(f"a{i}")) for i in range(4)]
    tasks += [await enqueue(queue, "B", taker(f"b{i}")) for i in range(2)]
    tasks += [await enqueue(queue, "C", taker("c0"))]
    for _ in range(7):
        available[0] = 1
        queue.notify()
    assert order == ["a0", "b0", "c0", "a1", "b1", "a2", "a3"]
    assert [await t for t in tasks] == ["a0", "a1", "a2", "a3", "b0", "b1", "c0"]


async def test_one_notify_serves_as_many_as_there_are_slots_in_fair_order() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=100, timeout_seconds=DEADLINE)
    pool = Pool()
    a = [await enqueue(queue, "A", pool.take) for _ in range(3)]
    b = await enqueue(queue, "B", pool.take)
    pool.add()
    pool.add()
    queue.notify()
    assert (queue.waiting_for("A"), queue.waiting_for("B")) == (2, 0)  # settled inside notify()
    assert (await a[0], await b) == (0, 1)
    assert not a[1].done() and not a[2].done()
    for task in a[1:]:
        task.cancel()
    await asyncio.gather(*a[1:], return_exceptions=True)


async def test_positions_are_reported_on_entry_and_when_they_change() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=100, timeout_seconds=DEADLINE)
    pool = Pool()
    seen: dict[str, list[int]] = {}

    def report(label: str) -> Callable[[int], None]:
        seen[label] = []
        return seen[label].append

    tasks = {label: await enqueue(queue, "A", pool.take, on_position=report(label)) for label in ("a0", "a1", "a2")}
    tasks["b0"] = await enqueue(queue, "B", pool.take, on_position=report("b0"))
    # fair order A0, B0, A1, A2: the newcomer from B goes ahead of A's later requests
    assert seen == {"a0": [0], "a1": [1, 2], "a2": [2, 3], "b0": [1]}
    pool.add()
    queue.notify()  # a0 served; B's turn next: B0, A1, A2
    assert await tasks["a0"] == 0
    assert seen == {"a0": [0], "a1": [1, 2, 1], "a2": [2, 3, 2], "b0": [1, 0]}
    tasks["a1"].cancel()  # leaving the line moves those behind
    await asyncio.gather(tasks["a1"], return_exceptions=True)
    assert seen["a2"] == [2, 3, 2, 1] and seen["b0"] == [1, 0]
    pool.add()
    pool.add()
    queue.notify()
    assert (await tasks["b0"], await tasks["a2"]) == (1, 2)
    assert seen["b0"] == [1, 0] and seen["a2"] == [2, 3, 2, 1]  # no report for a request already served


async def test_newcomer_takes_what_nobody_ahead_can_use() -> None:
    queue: FairQueue[str] = FairQueue(max_waiting=100, timeout_seconds=DEADLINE)
    blocked = await enqueue(queue, "A", lambda: None)  # waits for a host that stays full
    got = await queue.acquire("B", lambda: "other-host")
    assert got == "other-host" and queue.waiting == 1
    blocked.cancel()
    await asyncio.gather(blocked, return_exceptions=True)


async def test_waiters_whose_try_take_fails_stay_in_line() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=100, timeout_seconds=DEADLINE)
    pool = Pool()
    picky = await enqueue(queue, "A", lambda: None)
    easy = await enqueue(queue, "B", pool.take)
    pool.add()
    queue.notify()
    assert await easy == 0
    assert not picky.done() and queue.waiting_for("A") == 1
    picky.cancel()
    await asyncio.gather(picky, return_exceptions=True)


async def test_bounded() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=2, timeout_seconds=DEADLINE, retry_after=9)
    pool = Pool()
    waiting = [await enqueue(queue, "A", pool.take), await enqueue(queue, "B", pool.take)]
    with pytest.raises(QueueFullError) as full:
        await queue.acquire("C", pool.take)
    assert isinstance(full.value, GatewayBusyError)
    assert (full.value.http_status, full.value.retry_after, full.value.code) == (503, 9, "queue_full")
    assert queue.waiting == 2 and queue.waiting_for("C") == 0
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    assert await queue.acquire("C", Pool(1).take) == 0  # room again


async def test_timeout_removes_the_waiter() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=10, timeout_seconds=0.01)
    pool = Pool()
    with pytest.raises(QueueTimeoutError) as late:
        await queue.acquire("A", pool.take)
    assert (late.value.http_status, late.value.retry_after, late.value.code) == (503, 1, "queue_timeout")
    assert (queue.waiting, queue.waiting_for("A"), queue.oldest_wait_seconds) == (0, 0, 0.0)
    calls = pool.calls
    pool.add()
    queue.notify()
    assert pool.calls == calls and pool.free_slots == [0]  # nobody left to offer it to


async def test_value_taken_as_the_time_runs_out_is_returned_not_lost() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=10, timeout_seconds=0)
    pool = Pool()
    loop = asyncio.get_running_loop()

    def hand_out() -> None:
        pool.add()
        queue.notify()

    # Queued on entry, before the time limit's own callback: the slot is taken, then the deadline fires
    # before the waiter resumes. The taken slot must come back as the result, not vanish with a timeout.
    on_entry = lambda _ahead: loop.call_soon(hand_out)  # noqa: E731
    assert await queue.acquire("A", pool.take, on_position=on_entry) == 0
    assert pool.taken == [0] and queue.waiting == 0


async def test_cancelled_waiter_leaves_no_trace() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=10, timeout_seconds=DEADLINE)
    pool = Pool()
    gone = await enqueue(queue, "A", pool.take)
    stays = await enqueue(queue, "B", pool.take)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert (queue.waiting, queue.waiting_for("A"), list(queue._lines)) == (1, 0, ["B"])
    pool.add()
    queue.notify()
    assert await stays == 0 and queue.waiting == 0 and not queue._lines


async def test_value_taken_for_a_waiter_cancelled_at_the_same_moment_is_released() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=10, timeout_seconds=DEADLINE)
    pool = Pool()
    released: list[int] = []

    def release(slot: int) -> None:
        released.append(slot)
        pool.give_back(slot)

    racer = await enqueue(queue, "A", pool.take, release=release)
    other = await enqueue(queue, "B", pool.take)
    pool.add()
    queue.notify()  # slot 0 goes to the racer...
    racer.cancel()  # ...whose client disconnects before it could resume
    with pytest.raises(asyncio.CancelledError):
        await racer
    assert released == [0]
    assert await other == 0  # the released slot went on to the next waiter
    assert pool.taken == [0] and queue.waiting == 0


async def test_cancel_before_the_take_skips_the_waiter() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=10, timeout_seconds=DEADLINE)
    pool = Pool()
    gone = await enqueue(queue, "A", pool.take, release=lambda slot: pytest.fail("nothing was taken"))
    other = await enqueue(queue, "B", pool.take)
    gone.cancel()
    pool.add()
    queue.notify()  # the cancelled waiter is still in the line until it resumes, but gets nothing
    assert await other == 0
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_try_take_error_fails_only_its_waiter() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=10, timeout_seconds=DEADLINE)
    pool = Pool()

    def broken() -> int | None:
        raise RuntimeError("router bug")

    bad = await enqueue(queue, "A", broken)
    good = await enqueue(queue, "B", pool.take)
    pool.add()
    queue.notify()
    with pytest.raises(RuntimeError, match="router bug"):
        await bad
    assert await good == 0 and queue.waiting == 0


async def test_try_take_may_call_notify() -> None:
    queue: FairQueue[int] = FairQueue(max_waiting=10, timeout_seconds=DEADLINE)
    pool = Pool()

    def take_and_notify() -> int | None:
        queue.notify()  # e.g. a take that also finished some request
        return pool.take()

    first = await enqueue(queue, "A", take_and_notify)
    second = await enqueue(queue, "B", pool.take)
    pool.add()
    pool.add()
    queue.notify()
    assert (await first, await second) == (0, 1)


async def test_oldest_wait_seconds_follows_the_clock() -> None:
    now = [100.0]
    queue: FairQueue[int] = FairQueue(max_waiting=10, timeout_seconds=DEADLINE, clock=lambda: now[0])
    pool = Pool()
    assert queue.oldest_wait_seconds == 0.0
    first = await enqueue(queue, "A", pool.take)
    now[0] += 3
    second = await enqueue(queue, "B", pool.take)
    now[0] += 1
    assert queue.oldest_wait_seconds == 4.0
    pool.add()
    queue.notify()
    await first
    assert queue.oldest_wait_seconds == 1.0
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert queue.oldest_wait_seconds == 0.0


def test_default_retry_after_is_the_time_limit() -> None:
    assert FairQueue[int](max_waiting=1, timeout_seconds=29.5).retry_after == 30
    assert FairQueue[int](max_waiting=1, timeout_seconds=0.2).retry_after == 1


def test_queued_message() -> None:
    assert [queued_message(n) for n in (0, 3)] == ["queued: 0 ahead", "queued: 3 ahead"]
