"""HTTP-level limits uvicorn's httptools protocol lacks: header size (431), header and body read time (408),
and a per-process connection cap answered with a clean 503.

A small subclass of uvicorn's own protocol, so streaming, flow control and disconnect detection stay uvicorn's.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from ollama_gateway.web.disconnect import DisconnectSignal, install

log = logging.getLogger(__name__)

# What a request line and header lines add to the name/value bytes httptools reports: ": " and CRLF.
_HEADER_LINE_OVERHEAD = 4
_REQUEST_LINE_OVERHEAD = 16
LINGER_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Per-process HTTP limits; see README "Operations"."""

    max_header_bytes: int = 64 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 2048


class GatewayConfig(uvicorn.Config):
    """uvicorn's Config plus the gateway's HTTP limits (a module-level class, so worker processes can unpickle it)."""

    def __init__(self, app: Any, *, limits: HttpLimits, **options: Any) -> None:
        super().__init__(app, http=GuardedHttpProtocol, **options)
        self.limits = limits


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header/body limits and a connection cap."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits: HttpLimits = getattr(config, "limits", HttpLimits())
        self._reading_headers = True
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._over_cap = False
        self._refused = False
        self._linger: asyncio.TimerHandle | None = None
        self._disconnect: DisconnectSignal | None = None  # the current request's (see web.disconnect)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Count the connection; past the cap it is answered 503 at its first request and closed."""
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._over_cap = True
            log.warning("connection cap of %d reached: refusing a new connection", self.limits.max_connections)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the timers, then let uvicorn clean up."""
        self._cancel_timers()
        if self._linger is not None:
            self._linger.cancel()
        super().connection_lost(exc)
        if self._disconnect is not None and self.cycle is not None and self.cycle.disconnected:
            self._disconnect.fire()

    def data_received(self, data: bytes) -> None:
        """Feed the parser, refusing headers past the size limit before parsing much more of them."""
        if self._refused:
            return
        if self._reading_headers:
            self._header_bytes += len(data)
            self._arm_header_timer()
        super().data_received(data)
        if not self._refused and self._reading_headers and self._header_bytes > self.limits.max_header_bytes:
            self._refuse(431, f"request headers exceed {self.limits.max_header_bytes} bytes")

    def on_headers_complete(self) -> None:
        """Check the exact header size, then start the request (or the 503 refusal) with a body deadline."""
        self._reading_headers = False
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        # The head is a prefix of the bytes received so far, and the size below counts at most one byte more
        # per line than the line has: under half the limit received, it cannot be over.
        if 2 * self._header_bytes > self.limits.max_header_bytes:
            size = len(self.url) + _REQUEST_LINE_OVERHEAD
            size += sum(len(name) + len(value) + _HEADER_LINE_OVERHEAD for name, value in self.headers)
            if size > self.limits.max_header_bytes:
                self._refuse(431, f"request headers exceed {self.limits.max_header_bytes} bytes")
                raise _Refused
        if self._over_cap:
            app, self.app = self.app, _refuse_over_cap
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            return
        self._disconnect = install(self.scope)  # type: ignore[arg-type]  # a TypedDict, a mapping all the same
        super().on_headers_complete()
        self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_too_slow)

    def on_message_complete(self) -> None:
        """The body arrived in time."""
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """A kept-alive connection starts reading the next request's headers."""
        self._reading_headers = True
        self._header_bytes = 0
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error, unless this request was already refused (and answered)."""
        if not self._refused:
            super().send_400_response(msg)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None and self._reading_headers:
            self._header_timer = self.loop.call_later(self.limits.header_timeout, self._headers_too_slow)

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self._reading_headers or self._refused:
            return
        if self._header_bytes == 0 and self.cycle is not None:
            # An idle kept-alive connection: uvicorn's keep-alive timer normally closes it first.
            self.transport.close()
            return
        self._refuse(408, f"request headers not received within {self.limits.header_timeout:g} seconds")

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self._refused or self.cycle is None or self.cycle.response_started:
            return  # already answered (say, a 401 or 413 before the body was read)
        self._refuse(408, f"request body not received within {self.limits.body_timeout:g} seconds")

    def _refuse(self, status: int, message: str) -> None:
        """Answer with an OpenAI-shaped error (the surface is not known yet) and close the connection."""
        self._refused = True
        self._cancel_timers()
        log.warning("refused a request: %s", message)
        kind = "invalid_request_error"
        code = "request_header_fields_too_large" if status == 431 else "request_timeout"
        body = orjson.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}})
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: application/json\r\n", b"content-length: %d\r\n" % len(body)]
        head += [b"connection: close\r\n\r\n", body]
        if self.cycle is not None:
            self.cycle.disconnected = True  # the app, if it runs, sees http.disconnect and writes nothing
            self.cycle.message_event.set()
            if self._disconnect is not None:
                self._disconnect.fire()
        self.transport.write(b"".join(head))
        # A lingering close: closing with unread input would reset the connection, and the client could lose
        # the answer; so half-close, discard what still arrives, and close for good a moment later.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger = self.loop.call_later(LINGER_SECONDS, self.transport.close)


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a refused request (httptools reports it as a parser error)."""


async def _refuse_over_cap(scope: Any, receive: Any, send: Any) -> None:
    body = orjson.dumps(
        {
            "error": {
                "message": "the gateway has too many open connections; retry shortly",
                "type": "api_error",
                "param": None,
                "code": "too_many_connections",
            }
        }
    )
    headers = [(b"content-type", b"application/json"), (b"retry-after", b"1"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})
