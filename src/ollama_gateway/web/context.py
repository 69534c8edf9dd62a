"""Per-request context and the error boundary each surface wraps its endpoints in."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ollama_gateway.core.messages import Message
from ollama_gateway.errors import CancelledError, GatewayError, InternalError, ShuttingDownError, retry_after
from ollama_gateway.service.access import Outcome
from ollama_gateway.service.exchange import Exchange
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.storage.keys import KeyRecord
from ollama_gateway.tasks.document import new_task_id, validate_task_id
from ollama_gateway.upstream.port import Placement
from ollama_gateway.web.auth import presented_key
from ollama_gateway.web.body import parse_json, read_body

log = logging.getLogger(__name__)

TASK_HEADER = "X-Task-Id"
_TASK_HEADER_RAW = TASK_HEADER.lower().encode("latin-1")


@dataclass(frozen=True, slots=True)
class Surface:
    """How one protocol reports errors: a (status, body) renderer."""

    name: str
    error_body: Callable[[GatewayError], tuple[int, dict[str, Any]]]


@dataclass(slots=True)
class RequestContext:
    """What an endpoint knows about its request: gateway, task id, key and the exchange once begun."""

    request: Request
    gateway: Gateway
    task_id: str
    endpoint: str
    request_headers: dict[str, str] = field(default_factory=dict)
    surface: str = ""
    started: float = field(default_factory=time.perf_counter)
    task_id_generated: bool = False
    key: KeyRecord | None = None
    exchange: Exchange | None = None
    cancel_requested: bool = False
    dispatched: asyncio.Event | None = None  # set once a host has the request (it left the queue)
    extensions: dict[str, Any] = field(default_factory=dict)

    async def authenticate(self) -> KeyRecord:
        """The caller's key, or a 401."""
        self.key = await self.gateway.auth.authenticate(presented_key(self.request_headers))
        return self.key

    async def json(self) -> Any:
        """The body as JSON under the size limit."""
        limit = self.gateway.settings.max_body_bytes
        return parse_json(await read_body(self.request.receive, limit, self.request_headers.get("content-length")))

    async def begin(self, *, stream: bool = False) -> Exchange:
        """Start tracking: the task goes PENDING and the exchange starts its clock."""
        scope = self.request.scope
        extensions = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"),
            "stream": stream,
            **self.extensions,
        }
        owner = self.key.id if self.key else None
        task = await self.gateway.tracker.begin(self.task_id, owner, extensions, generated=self.task_id_generated)
        current = asyncio.current_task()
        if current is not None:
            task.bind(lambda: self._cancel(current))
        client = scope.get("client")  # (host, port), as the trusted-proxy middleware left it
        self.exchange = Exchange(
            endpoint=self.endpoint,
            task_id=self.task_id,
            key=self.key,
            client_ip=client[0] if client else None,
            user_agent=self.request_headers.get("user-agent"),
            record_usage=self.gateway.record_usage,
            task=task,
            stream=stream,
            on_finish=self._finished,
        )
        if stream:
            self.gateway.observer.stream_opened(self.surface)
        return self.exchange

    def _finished(self, done: Exchange, error: GatewayError | None) -> None:
        """The exchange ended: charge its tokens to the key's limits, then count it (one listener, made once)."""
        self.gateway.limiter.charge_key(done.key, done.usage.total_tokens)
        self._observe_exchange(done, error)

    def _observe_exchange(self, done: Exchange, error: GatewayError | None) -> None:
        now = time.perf_counter()
        self.gateway.observer.finished(
            Outcome(
                surface=self.surface,
                endpoint=self.endpoint,
                method=self.request.scope["method"],
                status=done.status,
                latency=now - self.started,
                task_id=self.task_id,
                key_id=done.key.id if done.key is not None else None,
                model=done.model_requested,
                model_upstream=done.model_upstream,
                ttft=done.first_output_at - self.started if done.first_output_at is not None else None,
                prompt_tokens=done.usage.prompt_tokens,
                completion_tokens=done.usage.completion_tokens,
                stream=done.stream,
                error=error,
            )
        )

    def observe_plain(self, status: int, error: GatewayError | None = None) -> None:
        """Record a request that never began an exchange (listings, refusals before tracking)."""
        if self.exchange is not None:
            return
        self.gateway.observer.finished(
            Outcome(
                surface=self.surface,
                endpoint=self.endpoint,
                method=self.request.scope["method"],
                status=status,
                latency=time.perf_counter() - self.started,
                task_id=self.task_id,
                key_id=self.key.id if self.key is not None else None,
                model=str(self.extensions.get("model") or ""),
                error=error,
            )
        )

    async def admit(self) -> None:
        """Count the request against its key's rpm, tpm and budget: a 429 when a limit is reached."""
        if self.key is not None:
            await self.gateway.limiter.admit(self.key)

    def placement(self, messages: Sequence[Message] = ()) -> Placement:
        """Where the fleet may send this request: fair-queued by key, kept with its conversation, tracked."""
        assert self.exchange is not None, "begin() the exchange before placing the request"
        if self.exchange.stream:  # a stream's first-chunk grace starts once a host has it (`respond`)
            self.dispatched = asyncio.Event()
        return Placement(
            owner=self.key.id if self.key is not None else "",
            conversation=messages,
            on_queued=self.exchange.queued,
            on_dispatched=self._dispatched,
        )

    def cancel_error(self) -> GatewayError:
        """How a cancelled request is reported: the gateway's shutdown, or a cancel through the task API."""
        return ShuttingDownError() if self.gateway.shutting_down else CancelledError("cancelled")

    def _dispatched(self) -> None:
        if self.exchange is not None:
            self.exchange.forwarding()
        if self.dispatched is not None:
            self.dispatched.set()

    def _cancel(self, task: asyncio.Task[Any]) -> None:
        self.cancel_requested = True
        task.cancel()

    @property
    def headers(self) -> dict[str, str]:
        """Headers every response of this request carries."""
        return {TASK_HEADER: self.task_id}


Endpoint = Callable[[RequestContext], Awaitable[Response]]


def endpoint(surface: Surface, name: str) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    """Wrap an endpoint: task id, error mapping in the surface's shape, and outcome recording — once, here."""

    def wrap(handler: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def run(request: Request) -> Response:
            gateway: Gateway = request.app.state.gateway
            # One plain dict per request: Starlette's Headers scans the list (and raises KeyError) per lookup.
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
            raw_id = headers.get("x-task-id")
            try:
                task_id = validate_task_id(raw_id) if raw_id is not None else new_task_id()
            except GatewayError as error:
                return error_response(surface, error, {TASK_HEADER: new_task_id()})
            ctx = RequestContext(
                request=request,
                gateway=gateway,
                task_id=task_id,
                endpoint=name,
                request_headers=headers,
                task_id_generated=raw_id is None,
                surface=surface.name,
            )
            gateway.observer.started(surface.name)
            try:
                response = await handler(ctx)
            except GatewayError as error:
                failed = _failed(surface, ctx, error)
                await gateway.settle_usage()
                return failed
            except asyncio.CancelledError:
                if not ctx.cancel_requested:
                    gone = CancelledError("client disconnected")
                    if ctx.exchange is not None:
                        ctx.exchange.finish(gone)
                    ctx.observe_plain(gone.http_status, gone)
                    raise
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
                return _failed(surface, ctx, ctx.cancel_error())
            except Exception as exc:
                log.exception("unhandled error in %s", name)
                return _failed(surface, ctx, InternalError(f"internal error: {type(exc).__name__}"))
            ctx.observe_plain(response.status_code)
            _add_task_header(response, ctx.task_id)
            if ctx.exchange is not None and ctx.exchange.finished:
                await gateway.settle_usage()  # streams settle when they end (EventStreamResponse.settle)
            return response

        return run

    return wrap


def _failed(surface: Surface, ctx: RequestContext, error: GatewayError) -> Response:
    if ctx.exchange is not None:
        ctx.exchange.finish(error)
    else:
        ctx.observe_plain(error.http_status, error)
    return error_response(surface, error, ctx.headers)


def error_response(surface: Surface, error: GatewayError, headers: Mapping[str, str]) -> Response:
    """The error in the surface's own shape, with Retry-After on rate limits and outages."""
    status, body = surface.error_body(error)
    extra = dict(headers)
    wait = retry_after(error)
    if wait is not None:
        extra["Retry-After"] = str(wait)
    return json_response(body, status, extra)


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None, *, then: Callable[[], None] | None = None
) -> Response:
    """A JSON response serialised with orjson; `then` runs once it has been sent (or sending failed)."""
    return _JSONResponse(orjson.dumps(body), status, headers, then)


class _JSONResponse(Response):
    """A JSON body whose head is built in one go, and bookkeeping that need not delay the answer (`then`: usage
    row, task state, metrics). Starlette's `init_headers` scans, lower-cases and re-encodes every header."""

    def __init__(
        self, content: bytes, status: int, headers: Mapping[str, str] | None, then: Callable[[], None] | None
    ) -> None:
        self.status_code = status
        self.background = None
        self.body = content
        self.raw_headers = [(b"content-length", b"%d" % len(content)), (b"content-type", b"application/json")]
        if headers:
            self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self._then = then

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": self.body})
        finally:
            if self._then is not None:
                self._then()


def _add_task_header(response: Response, task_id: str) -> None:
    """X-Task-Id on the response, unless the endpoint set it already (most do, with `ctx.headers`)."""
    raw = response.raw_headers  # the list `response.headers` edits too
    for name, _ in raw:  # a plain loop: a generator in any() costs a frame per request
        if name == _TASK_HEADER_RAW:
            return
    raw.append((_TASK_HEADER_RAW, task_id.encode("latin-1")))
