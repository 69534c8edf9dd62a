"""An ASGI response that relays an encoder's frames, pings while the model is silent, and cancels on disconnect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ollama_gateway.core.events import Event, close_stream
from ollama_gateway.errors import CancelledError, GatewayError, InternalError
from ollama_gateway.protocols.base import StreamEncoder
from ollama_gateway.web.disconnect import signal_of

log = logging.getLogger(__name__)

T = TypeVar("T")

Outcome = Callable[[GatewayError | None], None]


class EventStreamResponse(Response):
    """Streams `events` through `encoder`; `on_outcome(None)` on success, with the error otherwise.

    The first event has already been awaited by the caller when possible, so errors Ollama reports before
    any output become ordinary HTTP errors; everything after the headers are sent becomes an error frame.
    """

    def __init__(
        self,
        events: AsyncIterator[Event],
        encoder: StreamEncoder,
        *,
        headers: Mapping[str, str],
        on_outcome: Outcome,
        observe: Callable[[Event], None] | None = None,
        idle_seconds: float | None = None,
        cancel_requested: Callable[[], bool] = lambda: False,
        cancel_error: Callable[[], GatewayError] = lambda: CancelledError("cancelled"),
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        # Response's own __init__ would render a body; this response writes frames as they come.
        self.status_code = 200
        self.background = None
        self.body = b""
        self.raw_headers = [(b"content-type", encoder.media_type.encode())]
        self.raw_headers += [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
        self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.events = events
        self.encoder = encoder
        self.on_outcome = on_outcome
        self.observe = observe
        self.idle_seconds = idle_seconds
        self.cancel_requested = cancel_requested
        self.cancel_error = cancel_error
        self.settle = settle
        self._last_sent = time.monotonic()
        self._watch: ClientWatch | None = None
        # Frames are written by the stream and, rarely, by a keep-alive ping; they take turns without a lock:
        # a ping is sent only while no frame is, and a frame waits for a ping in flight.
        self._sending = False
        self._ping_sent: asyncio.Future[None] | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._ping_task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the stream, a disconnect listener and (when asked) an idle pinger side by side."""
        main = asyncio.current_task()
        assert main is not None
        self._watch = watch = ClientWatch(scope, receive, main.cancel)
        if self.idle_seconds:
            self._arm_ping(send, self.idle_seconds, self.idle_seconds)
        try:
            await self._stream(send)
        except asyncio.CancelledError:
            if not (self._disconnected or self.cancel_requested()):
                raise
            # The client went away, or its task was cancelled: unwinding the event iterator closed the
            # upstream request; a cancelled (still connected) client got an error frame.
            main.uncancel()
            if not self._disconnected:
                with contextlib.suppress(OSError):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await watch.close()
            if self._ping_timer is not None:
                self._ping_timer.cancel()
            if self._ping_task is not None:
                self._ping_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._ping_task

    async def _stream(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        outcome: GatewayError | None = None
        try:
            await self._write(send, self.encoder.on_start())
            observe = self.observe
            async for event in self.events:
                if observe is not None:
                    observe(event)
                await self._write(send, self.encoder.on_event(event))
            await self._write(send, self.encoder.on_end())
        except GatewayError as error:
            outcome = error
            await self._write(send, self.encoder.on_error(error))
        except asyncio.CancelledError:
            outcome = CancelledError("client disconnected") if self._disconnected else self.cancel_error()
            if not self._disconnected and self.cancel_requested():
                with contextlib.suppress(OSError):
                    await send(
                        {"type": "http.response.body", "body": self.encoder.on_error(outcome), "more_body": True}
                    )
            raise
        except Exception as exc:  # a bug of ours: the client still gets a protocol error frame
            log.exception("stream failed")
            outcome = InternalError(f"internal error while streaming: {type(exc).__name__}")
            await self._write(send, self.encoder.on_error(outcome))
        finally:
            await _close(self.events)
            self.on_outcome(outcome)
        if self.settle is not None:
            await self.settle()  # the response ends only once its usage row is written (USAGE_DURABILITY=sync)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _write(self, send: Send, frame: bytes) -> None:
        if frame:
            if self._ping_sent is not None:
                await asyncio.shield(self._ping_sent)
            self._sending = True
            try:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            finally:
                self._sending = False
            self._last_sent = time.monotonic()

    @property
    def _disconnected(self) -> bool:
        return self._watch is not None and self._watch.gone

    def _arm_ping(self, send: Send, every: float, delay: float) -> None:
        # A loop timer, not a task per stream: nothing runs while frames keep coming.
        self._ping_timer = asyncio.get_running_loop().call_later(max(delay, 0.01), self._ping_due, send, every)

    def _ping_due(self, send: Send, every: float) -> None:
        idle = time.monotonic() - self._last_sent
        if idle >= every and not self._sending and self._ping_task is None:
            loop = asyncio.get_running_loop()
            self._ping_sent = loop.create_future()  # from now on a frame waits for the ping
            self._ping_task = loop.create_task(self._ping(send, self._ping_sent))
            idle = 0.0
        self._arm_ping(send, every, every - idle)

    async def _ping(self, send: Send, sent: asyncio.Future[None]) -> None:
        frame = self.encoder.on_idle()
        try:
            if frame:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
                self._last_sent = time.monotonic()
        finally:
            self._ping_sent = None
            sent.set_result(None)
            self._ping_task = None


class ClientWatch:
    """Calls `on_gone` once if the client disconnects while the watch is open.

    Through the server's disconnect signal when it has one (no task, nothing read); otherwise a task reads
    `receive()` until `http.disconnect` (the request body has already been read).
    """

    __slots__ = ("_on_gone", "_signal", "_task", "gone")

    def __init__(self, scope: Scope, receive: Receive, on_gone: Callable[[], object]) -> None:
        self.gone = False
        self._on_gone = on_gone
        self._signal = signal_of(scope)
        self._task: asyncio.Task[None] | None = None
        if self._signal is not None:
            self._signal.add(self._fire)
        else:
            self._task = asyncio.get_running_loop().create_task(self._read(receive))

    def _fire(self) -> None:
        if not self.gone:
            self.gone = True
            self._on_gone()

    async def _read(self, receive: Receive) -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                self._fire()
                return

    async def close(self) -> None:
        """Stop watching."""
        if self._signal is not None:
            self._signal.discard(self._fire)
        elif self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def until_disconnect(scope: Scope, receive: Receive, work: Awaitable[T]) -> T:
    """Await `work` while watching the client: a disconnect cancels it and raises CancelledError (499).

    For non-streaming responses, which otherwise notice a gone client only when writing the answer.
    """
    main = asyncio.current_task()
    assert main is not None
    waiting = True

    def gone() -> None:
        if waiting:
            main.cancel()

    watch = ClientWatch(scope, receive, gone)
    try:
        result = await work
        waiting = False  # set synchronously after `work`, so the watch cannot cancel what comes next
        return result
    except asyncio.CancelledError:
        waiting = False
        if not watch.gone:
            raise
        main.uncancel()
        raise CancelledError("client disconnected") from None
    finally:
        await watch.close()


async def _close(events: AsyncIterator[Event]) -> None:
    with contextlib.suppress(Exception):
        await close_stream(events)


async def prefetch(
    events: AsyncIterator[Event], grace_seconds: float, dispatched: asyncio.Event | None = None
) -> AsyncIterator[Event]:
    """Wait up to `grace_seconds` for the first event so early upstream errors raise here, as HTTP errors.

    A model that is still silent after the grace period (a long prompt evaluation) gets its stream
    started anyway, so keep-alive frames and task heartbeats can flow; later errors become error frames.
    The grace starts once a host has the request (`dispatched`): a request waiting in the gateway's queue
    commits to nothing, so a full queue or a queue timeout is still a plain 503.
    """
    first: asyncio.Future[Event] = asyncio.ensure_future(anext(events))
    try:
        if dispatched is not None and not dispatched.is_set():
            waiter: asyncio.Future[Any] = asyncio.ensure_future(dispatched.wait())
            try:
                await asyncio.wait({first, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
        await asyncio.wait({first}, timeout=grace_seconds)
    except asyncio.CancelledError:
        first.cancel()
        await _close(events)
        raise
    if first.done():
        try:
            event = first.result()
        except StopAsyncIteration:
            return _from(None, events)
        except BaseException:
            await _close(events)
            raise
        return _from(event, events)
    return _after(first, events)


async def _from(first: Event | None, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    try:
        if first is None:
            return
        yield first
        async for event in events:
            yield event
    finally:
        await _close(events)


async def _after(first: asyncio.Future[Event], events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    try:
        try:
            event = await first
        except StopAsyncIteration:
            return
        yield event
        async for event in events:
            yield event
    finally:
        first.cancel()
        await _close(events)
