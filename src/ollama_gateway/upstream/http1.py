"""A lean asyncio HTTP/1.1 client for one origin: pooled keep-alive connections parsed by httptools.

A `Response` is handed back once its head has arrived; its body is an async iterator of chunks. Closing it
before the end closes the connection (how a server learns to stop); only fully read answers return to the pool.
"""

from __future__ import annotations

import asyncio
import base64
import ssl as ssl_module
from collections import deque
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import httptools

HIGH_WATER = 1 << 20  # buffered body bytes at which reading pauses until the consumer takes them


class HTTPError(Exception):
    """Base of every failure of this client."""


class ConnectError(HTTPError):
    """No connection could be made (refused, unresolvable, TLS handshake failed)."""


class ConnectTimeout(ConnectError):
    """The connect did not complete within the connect timeout."""


class ResponseTimeout(HTTPError, TimeoutError):
    """The exchange's total time limit ran out."""


class ConnectionBroken(HTTPError):
    """The connection closed or broke; `started` says whether any byte of the answer had arrived."""

    def __init__(self, message: str, *, started: bool) -> None:
        super().__init__(message)
        self.started = started


class ProtocolError(HTTPError):
    """The answer is not valid HTTP/1.x."""


class _Conn(asyncio.Protocol):
    """One connection: the transport, its parser and the state of the answer being read."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.idle_since = 0.0
        self.reset()

    def reset(self) -> None:
        self.active = self.head_done = self.complete = self.started = self.paused = False
        self.keep, self.status, self.buffered = True, 0, 0
        self.headers: dict[str, str] = {}
        self.chunks: deque[bytes] = deque()
        self.error: HTTPError | None = None
        self.waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio.Transport

    def data_received(self, data: bytes) -> None:
        if not self.active or self.complete:  # bytes nobody asked for: the connection is out of step
            self.abort()
            return
        self.started = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.fail(ProtocolError(f"malformed HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.active and not self.complete and self.error is None:
            framed = "content-length" in self.headers or "chunked" in self.headers.get("transfer-encoding", "")
            if self.head_done and exc is None and not framed:
                self.complete, self.keep = True, False  # a read-until-close body ends here
            else:
                reason = f": {exc}" if exc else ""
                self.error = ConnectionBroken(f"server closed the connection{reason}", started=self.started)
        self.wake()
        self.client._lost(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if self.complete or 100 <= status < 200:  # a second answer is out of step; an interim one is skipped
            self.keep = self.keep and not self.complete
            self.headers = self.headers if self.complete else {}
            return
        self.status, self.head_done = status, True
        self.keep = self.parser.should_keep_alive()
        self.wake()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self.wake()

    def on_message_complete(self) -> None:
        if self.head_done:
            self.complete = True
            self.keep = self.keep and self.parser.should_keep_alive()
            self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        self.waiter = self.client._loop.create_future()
        await self.waiter

    def fail(self, error: HTTPError) -> None:
        if self.error is None and not self.complete:
            self.error = error
        self.abort()
        self.wake()

    def abort(self) -> None:
        self.keep = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def usable(self) -> bool:
        return self.keep and self.transport is not None and not self.transport.is_closing()


class Response:
    """An answer whose head has arrived; iterate it for the body, `read()` it whole, or `close()` it."""

    def __init__(self, client: Client, conn: _Conn, timer: asyncio.TimerHandle | None) -> None:
        self._client, self._timer = client, timer
        self._conn: _Conn | None = conn
        self.status, self.headers = conn.status, conn.headers

    def __aiter__(self) -> Response:
        return self

    async def __anext__(self) -> bytes:
        conn = self._conn
        if conn is None:
            raise StopAsyncIteration
        while True:
            if chunks := conn.chunks:
                chunk = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                conn.buffered = 0
                if conn.paused and conn.transport is not None:
                    conn.paused = False
                    conn.transport.resume_reading()
                return chunk
            if conn.error is not None:
                self.close()
                raise conn.error
            if conn.complete:
                self.close()
                raise StopAsyncIteration
            await conn.wait()

    async def read(self) -> bytes:
        """The whole (rest of the) body."""
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        """Close, as an async iterator does."""
        self.close()

    def close(self) -> None:
        """Give the connection back if its answer was read to the end, else close it."""
        conn, self._conn = self._conn, None
        if self._timer is not None:
            self._timer.cancel()
        if conn is not None:
            self._client._release(conn)


class Client:
    """A pool of keep-alive connections to one origin (`http[s]://host[:port][/base]`)."""

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 100,
        connect_timeout: float = 5.0,
        keepalive: float = 30.0,
        headers: Mapping[str, str] | None = None,
        ssl: ssl_module.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        tls = parts.scheme == "https"
        self.host, self.port, self.prefix = parts.hostname, parts.port or (443 if tls else 80), parts.path.rstrip("/")
        self._ssl: ssl_module.SSLContext | None = (ssl or ssl_module.create_default_context()) if tls else None
        self.max_connections, self.connect_timeout, self.keepalive = max_connections, connect_timeout, keepalive
        authority = (f"[{self.host}]" if ":" in self.host else self.host) + (f":{parts.port}" if parts.port else "")
        headers = dict(headers or {})
        if parts.username is not None and not any(k.lower() == "authorization" for k in headers):
            userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(userinfo).decode()  # as aiohttp did
        lines = [f"Host: {authority}", *(f"{k}: {v}" for k, v in headers.items())]
        self._head = "".join(line + "\r\n" for line in lines).encode("latin-1")  # the constant header block
        self._loop = asyncio.get_running_loop()
        self._idle: list[_Conn] = []  # LIFO: the most recently used connection is the least likely to be stale
        self._conns: set[_Conn] = set()
        self._open = 0  # slots taken: open or connecting connections, and slots handed to a waiter
        self._waiters: deque[asyncio.Future[_Conn | None]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        time_limit: float | None = None,
    ) -> Response:
        """Send one request; the response once its head has arrived. `time_limit` bounds the whole exchange."""
        deadline = None if time_limit is None else self._loop.time() + time_limit
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\n".encode("latin-1") + self._head
        if headers:
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode("latin-1")
        if body is not None:
            head += b"Content-Length: %d\r\n" % len(body)
        head += b"\r\n"
        for attempt in (0, 1):
            conn, reused = await self._acquire(deadline, fresh=attempt > 0)
            timer = None if deadline is None else self._loop.call_at(deadline, _expire, conn, time_limit)
            try:
                conn.active = True
                assert conn.transport is not None
                conn.transport.write(head + body if body else head)
                while not conn.head_done and conn.error is None:
                    await conn.wait()
            finally:
                if conn.error is not None or not conn.head_done:  # failed, or cancelled while waiting
                    if timer is not None:
                        timer.cancel()
                    conn.abort()
                    self._release(conn)
            if (error := conn.error) is None:
                return Response(self, conn, timer)
            if not (reused and attempt == 0 and isinstance(error, ConnectionBroken) and not error.started):
                raise error
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        """Close every connection, idle or busy."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for conn in list(self._conns):
            conn.fail(ConnectionBroken("client closed", started=conn.started))
        self._idle.clear()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(ConnectError("client closed"))
        self._waiters.clear()

    async def _acquire(self, deadline: float | None, *, fresh: bool) -> tuple[_Conn, bool]:
        """A connection: an idle one (LIFO), else a new one while under the limit, else the next one freed."""
        while self._idle and not fresh:
            conn = self._idle.pop()
            if conn.usable():
                return conn, True
            conn.abort()
        try:
            async with asyncio.timeout_at(deadline):
                while not self._closed:
                    if not self._waiters and self._open < self.max_connections:
                        self._open += 1
                        return await self._connect(), False
                    waiter: asyncio.Future[_Conn | None] = self._loop.create_future()
                    self._waiters.append(waiter)
                    try:
                        handed = await waiter
                    except BaseException:
                        if waiter in self._waiters:
                            self._waiters.remove(waiter)
                        elif waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                            self._hand_on(waiter.result())  # handed something just as it gave up: pass it on
                        raise
                    if handed is None:  # a free slot
                        return await self._connect(), False
                    if handed.usable():
                        return handed, True
                    self._release(handed)  # closed while handed over: its slot passes on
                raise ConnectError("client closed")
        except TimeoutError as exc:
            raise ResponseTimeout("no connection free within the time limit") from exc

    async def _connect(self) -> _Conn:
        """Connect on a slot already taken; a failure frees the slot."""
        conn = _Conn(self)
        self._conns.add(conn)
        try:
            async with asyncio.timeout(self.connect_timeout):
                await self._loop.create_connection(
                    lambda: conn, self.host, self.port, ssl=self._ssl, server_hostname=self.host if self._ssl else None
                )
        except BaseException as exc:
            self._drop(conn)
            if isinstance(exc, TimeoutError):
                raise ConnectTimeout(f"connect to {self.host}:{self.port} timed out") from exc
            if isinstance(exc, OSError):
                raise ConnectError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
            raise
        return conn

    def _release(self, conn: _Conn) -> None:
        if not (conn.complete and conn.usable()) or self._closed:
            conn.abort()
            self._drop(conn)
            return
        if conn.paused and conn.transport is not None:
            conn.transport.resume_reading()
        conn.reset()
        self._hand_on(conn)

    def _hand_on(self, conn: _Conn | None) -> None:
        """A connection (or, None, a free slot) to the longest waiter; else to the idle list (or freed)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is None:
            self._open -= 1
            return
        conn.idle_since = self._loop.time()
        self._idle.append(conn)
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(self.keepalive, self._sweep)

    def _lost(self, conn: _Conn) -> None:
        if conn in self._idle:
            self._idle.remove(conn)
        if not conn.active:  # a busy one is dropped when its response is closed
            self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        if conn in self._conns:
            self._conns.discard(conn)
            self._hand_on(None)

    def _sweep(self) -> None:
        self._sweeper = None
        limit = self._loop.time() - self.keepalive
        for conn in [c for c in self._idle if c.idle_since <= limit]:
            conn.abort()  # connection_lost takes it off the idle list
        if self._idle:
            self._sweeper = self._loop.call_later(self.keepalive / 2, self._sweep)


def _expire(conn: _Conn, time_limit: float | None) -> None:
    conn.fail(ResponseTimeout(f"no answer within {time_limit:g} s"))
