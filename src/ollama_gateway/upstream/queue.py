"""The gateway's wait line for when every candidate host is at capacity: fair across owners, FIFO within one.

Fair order is round-robin over owners (API keys), each owner's oldest waiter first. Owners take turns in the
order they were last served: an owner who just got a slot goes to the back, an owner new to the line joins at
the back. So one key with 500 queued requests delays another key's single request by at most one slot.

The queue does not know what a slot is: each waiter brings a `try_take` that returns a value (a reserved host,
say) or None, and `notify()` offers every waiter, in fair order, a chance to take one.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ollama_gateway.errors import QueueFullError, QueueTimeoutError

__all__ = ["FairQueue", "QueueFullError", "QueueTimeoutError"]

T = TypeVar("T")

MAX_WALKS = 4  # walks per notify(), in case try_take calls back into notify (bounded: it must not spin)


@dataclass(eq=False, slots=True)
class _Waiter(Generic[T]):
    owner: str
    try_take: Callable[[], T | None]
    on_position: Callable[[int], None] | None
    future: asyncio.Future[T]
    since: float
    position: int = field(default=-1)


class FairQueue(Generic[T]):
    """Requests waiting for a free host: bounded, with a time limit, fair across owners and FIFO within each."""

    def __init__(
        self,
        max_waiting: int,
        timeout_seconds: float,
        *,
        retry_after: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_waiting = max_waiting
        self.timeout_seconds = timeout_seconds
        # What Retry-After to suggest when refusing; by default the time limit, as a rough time to drain.
        self.retry_after = retry_after if retry_after is not None else max(1, math.ceil(timeout_seconds))
        self._clock = clock
        self._lines: dict[str, deque[_Waiter[T]]] = {}  # insertion order = turn order (least recently served first)
        self._count = 0
        self._notifying = False
        self._again = False

    @property
    def waiting(self) -> int:
        """How many requests wait, over all owners."""
        return self._count

    def waiting_for(self, owner: str) -> int:
        """How many requests of `owner` wait."""
        line = self._lines.get(owner)
        return len(line) if line else 0

    @property
    def oldest_wait_seconds(self) -> float:
        """How long the longest-waiting request has waited (0 when none waits)."""
        oldest = min((line[0].since for line in self._lines.values() if line), default=None)
        return 0.0 if oldest is None else max(0.0, self._clock() - oldest)

    async def acquire(
        self,
        owner: str,
        try_take: Callable[[], T | None],
        on_position: Callable[[int], None] | None = None,
        release: Callable[[T], None] | None = None,
    ) -> T:
        """A value from `try_take`, at once when nobody waits, else once it is this waiter's turn and one is free.

        `on_position(n)` hears how many requests are ahead, on entry and whenever that changes. QueueFullError
        when `max_waiting` already wait, QueueTimeoutError past `timeout_seconds`. If the waiting coroutine is
        cancelled just as a value was taken for it, `release(value)` gives that value back.
        """
        if self._count == 0:
            value = try_take()
            if value is not None:
                return value
        if self._count >= self.max_waiting:
            raise QueueFullError(retry_after=self.retry_after)
        waiter: _Waiter[T] = _Waiter(
            owner, try_take, on_position, asyncio.get_running_loop().create_future(), self._clock()
        )
        self._lines.setdefault(owner, deque()).append(waiter)
        self._count += 1
        # Offer the newcomer (after everyone ahead of it) a chance now: it may want a host the others do not.
        self.notify()
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await waiter.future
        except TimeoutError:
            if waiter.future.done() and not waiter.future.cancelled():
                return waiter.future.result()  # taken at the very moment the time ran out
            raise QueueTimeoutError(retry_after=self.retry_after) from None
        except asyncio.CancelledError:
            future = waiter.future
            if future.done() and not future.cancelled() and future.exception() is None and release is not None:
                release(future.result())
                self.notify()
            raise
        finally:
            self._remove(waiter)

    def notify(self) -> None:
        """Capacity may have freed: offer each waiter, in fair order, a chance to take a value."""
        if self._count == 0:  # nobody waits (every release when the fleet is not full): nothing to offer or report
            return
        if self._notifying:  # called back from a try_take: walk again once the current walk ends
            self._again = True
            return
        self._notifying = True
        try:
            for _ in range(MAX_WALKS):
                self._again = False
                self._walk()
                if not self._again:
                    break
        finally:
            self._notifying = False
        self._report_positions()

    def _walk(self) -> None:
        for waiter in self._fair_order():
            if waiter.future.done():
                continue
            try:
                value = waiter.try_take()
            except Exception as exc:  # the waiter's own failure is its own, not the queue's
                waiter.future.set_exception(exc)
                self._remove(waiter)
                continue
            if value is not None:
                waiter.future.set_result(value)
                self._remove(waiter)
                self._send_to_back(waiter.owner)

    def _fair_order(self) -> list[_Waiter[T]]:
        """Every waiter in the order they would be served: round k takes each owner's k-th oldest, in turn order."""
        lines = [line for line in self._lines.values() if line]
        order: list[_Waiter[T]] = []
        depth = 0
        while lines:
            order.extend(line[depth] for line in lines)
            depth += 1
            lines = [line for line in lines if len(line) > depth]
        return order

    def _send_to_back(self, owner: str) -> None:
        line = self._lines.pop(owner, None)
        if line:
            self._lines[owner] = line

    def _remove(self, waiter: _Waiter[T]) -> None:
        line = self._lines.get(waiter.owner)
        if line is None or waiter not in line:
            return
        line.remove(waiter)
        self._count -= 1
        if not line:
            del self._lines[waiter.owner]
        if not self._notifying:
            self._report_positions()

    def _report_positions(self) -> None:
        for ahead, waiter in enumerate(self._fair_order()):
            if waiter.position != ahead and not waiter.future.done():
                waiter.position = ahead
                if waiter.on_position is not None:
                    waiter.on_position(ahead)
