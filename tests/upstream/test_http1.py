"""The lean HTTP/1.1 client against raw asyncio servers on loopback, whose every byte the test controls."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from ollama_gateway.upstream import http1

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes] | None:
    """One request off the wire: its request line, lower-cased headers and body; None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    line, *rest = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in rest if h)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return line, headers, body


class Server:
    """A raw TCP server: `handler(reader, writer, n)` runs for the n-th connection (from 0)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[tuple[int, str, dict[str, str], bytes]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = self.connections
        self.connections += 1
        try:
            await self.handler(reader, writer, n)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def next_request(self, reader: asyncio.StreamReader, n: int) -> bool:
        request = await read_request(reader)
        if request is None:
            return False
        self.requests.append((n, *request))
        return True


def keep_alive(body: bytes = b"ok", extra: bytes = b"") -> Handler:
    """Answer every request on a connection with `body` (Content-Length framing)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while await server_of[handler].next_request(reader, n):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body))
            await writer.drain()

    return handler


server_of: dict[Handler, Server] = {}


async def serve(handler: Handler) -> Server:
    server = Server(handler)
    server_of[handler] = server
    return await server.__aenter__()


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., http1.Client]]:
    clients: list[http1.Client] = []

    def make(url: str, **kwargs: object) -> http1.Client:
        client = http1.Client(url, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def test_a_head_and_chunked_body_split_into_single_bytes(client_for: Callable[..., http1.Client]) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nX-Long-Header: " + b"v" * 300 + b"\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1b\r\n, and a longer second chunk\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while await server.next_request(reader, n):
            for i in range(len(answer)):
                writer.write(answer[i : i + 1])
                await writer.drain()

    server = await serve(handler)
    client = client_for(server.url)
    for _ in range(2):
        response = await client.request("GET", "/x", time_limit=5)
        assert response.status == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.headers["x-long-header"] == "v" * 300
        assert await response.read() == b"hello, and a longer second chunk"
    assert server.connections == 1  # trailers consumed: the connection was clean enough to reuse


async def test_keep_alive_serves_several_requests_on_one_connection(client_for: Callable[..., http1.Client]) -> None:
    handler = keep_alive(b'{"a":1}')
    server = await serve(handler)
    client = client_for(server.url + "/base/", headers={"Authorization": "Bearer t"})
    for i in range(3):
        response = await client.request("POST", f"/api/{i}", b"body%d" % i, headers={"Content-Type": "a/b"})
        assert (response.status, await response.read()) == (200, b'{"a":1}')
    assert server.connections == 1
    assert [(n, line, body) for n, line, _, body in server.requests] == [
        (0, f"POST /base/api/{i} HTTP/1.1", b"body%d" % i) for i in range(3)
    ]
    _, _, headers, _ = server.requests[0]
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["authorization"] == "Bearer t" and headers["content-type"] == "a/b"


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
        b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nbody",
    ],
    ids=["connection-close", "http-1.0"],
)
async def test_an_answer_that_ends_the_connection_is_not_reused(
    client_for: Callable[..., http1.Client], answer: bytes
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        if await server.next_request(reader, n):
            writer.write(answer)
            await writer.drain()
            await reader.read()  # the client closes its side

    server = await serve(handler)
    client = client_for(server.url)
    for _ in range(2):
        response = await client.request("GET", "/", time_limit=5)
        assert await response.read() == b"body"
    assert server.connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
    ],
    ids=["1.1", "1.0"],
)
async def test_a_body_read_until_close(client_for: Callable[..., http1.Client], answer: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        if await server.next_request(reader, n):
            writer.write(answer[:30])
            await writer.drain()
            writer.write(answer[30:])

    server = await serve(handler)
    response = await client_for(server.url).request("GET", "/", time_limit=5)
    assert await response.read() == b"until the end"


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ],
    ids=["content-length", "chunked"],
)
async def test_a_reset_mid_body_is_a_broken_connection_that_had_started(
    client_for: Callable[..., http1.Client], answer: bytes
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        if await server.next_request(reader, n):
            writer.write(answer)
            await writer.drain()
            writer.transport.abort()

    server = await serve(handler)
    response = await client_for(server.url).request("GET", "/", time_limit=5)
    received = b""
    with pytest.raises(http1.ConnectionBroken) as info:
        async for chunk in response:
            received += chunk
    assert info.value.started
    assert received in (b"only ten b", b"hello")


async def test_a_pooled_connection_the_server_dropped_is_retried_once_on_a_new_one(
    client_for: Callable[..., http1.Client],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while await server.next_request(reader, n):
            if n == 0 and len(server.requests) == 2:
                return  # an idle timeout racing the next request: closed without a byte of answer
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    server = await serve(handler)
    client = client_for(server.url)
    assert await (await client.request("GET", "/1", time_limit=5)).read() == b"ok"
    assert await (await client.request("GET", "/2", time_limit=5)).read() == b"ok"
    assert [(n, line) for n, line, _, _ in server.requests] == [
        (0, "GET /1 HTTP/1.1"),
        (0, "GET /2 HTTP/1.1"),
        (1, "GET /2 HTTP/1.1"),
    ]


async def test_an_idle_connection_closed_by_the_server_is_not_used_again(
    client_for: Callable[..., http1.Client],
) -> None:
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        if await server.next_request(reader, n):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            if n == 0:
                writer.close()
                await writer.wait_closed()
                closed.set()
                return
            await reader.read()

    server = await serve(handler)
    client = client_for(server.url)
    assert await (await client.request("GET", "/", time_limit=5)).read() == b"ok"
    await closed.wait()
    assert await (await client.request("GET", "/", time_limit=5)).read() == b"ok"
    assert server.connections == 2


async def test_a_fresh_connection_closed_before_an_answer_is_not_retried(
    client_for: Callable[..., http1.Client],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.next_request(reader, n)

    server = await serve(handler)
    with pytest.raises(http1.ConnectionBroken) as info:
        await client_for(server.url).request("GET", "/", time_limit=5)
    assert not info.value.started and server.connections == 1


async def test_a_malformed_answer_is_a_protocol_error(client_for: Callable[..., http1.Client]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        if await server.next_request(reader, n):
            writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            await reader.read()

    server = await serve(handler)
    with pytest.raises(http1.ProtocolError):
        await client_for(server.url).request("GET", "/", time_limit=5)


async def test_a_refused_connection_is_a_connect_error(client_for: Callable[..., http1.Client]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(http1.ConnectError) as info:
        await client_for(f"http://127.0.0.1:{port}").request("GET", "/", time_limit=5)
    assert not isinstance(info.value, http1.ConnectTimeout)


async def test_a_connect_that_hangs_is_a_connect_timeout(
    client_for: Callable[..., http1.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()

    async def never(*args: object, **kwargs: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(loop, "create_connection", never)
    client = client_for("http://127.0.0.1:9", connect_timeout=0.05)
    with pytest.raises(http1.ConnectTimeout):
        await client.request("GET", "/", time_limit=5)
    assert client._open == 0  # the slot came back


async def test_the_total_limit_covers_the_head_and_the_body(client_for: Callable[..., http1.Client]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.next_request(reader, n)
        if n == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await reader.read()  # silent until the client gives up and closes

    server = await serve(handler)
    client = client_for(server.url)
    async with asyncio.timeout(5):  # a bound of the test's own, should the client's limit fail to fire
        with pytest.raises(http1.ResponseTimeout):
            await client.request("GET", "/", time_limit=0.1)
        response = await client.request("GET", "/", time_limit=0.2)
        with pytest.raises(http1.ResponseTimeout, match=r"within 0\.2 s"):
            await response.read()
    assert client._open == 0


async def test_closing_a_stream_early_closes_its_connection(client_for: Callable[..., http1.Client]) -> None:
    hung_up = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while await server.next_request(reader, n):
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ntoken1\r\n")
            await writer.drain()
            if n == 1:
                writer.write(b"0\r\n\r\n")
                continue
            assert await reader.read() == b""  # the client hung up: stop generating
            hung_up.set()
            return

    server = await serve(handler)
    client = client_for(server.url)
    response = await client.request("POST", "/api/chat", b"{}", time_limit=5)
    async for chunk in response:
        assert chunk == b"token1"
        break
    await response.aclose()
    await asyncio.wait_for(hung_up.wait(), 5)
    assert await (await client.request("POST", "/api/chat", b"{}", time_limit=5)).read() == b"token1"
    assert server.connections == 2


async def test_past_the_connection_limit_a_request_waits_for_a_free_one(
    client_for: Callable[..., http1.Client],
) -> None:
    finish = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while await server.next_request(reader, n):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
            await writer.drain()
            await finish.wait()
            writer.write(b"cd")

    server = await serve(handler)
    client = client_for(server.url, max_connections=1)
    first = await client.request("GET", "/1", time_limit=5)
    second = asyncio.create_task(client.request("GET", "/2", time_limit=5))
    async with asyncio.timeout(5):
        while not client._waiters:
            await asyncio.sleep(0)
    assert not second.done() and len(server.requests) == 1
    finish.set()
    assert await first.read() == b"abcd"
    assert await (await second).read() == b"abcd"
    assert server.connections == 1 and len(server.requests) == 2


async def test_a_large_body_pauses_reading_and_loses_nothing(client_for: Callable[..., http1.Client]) -> None:
    body = bytes(range(256)) * (5 * 4096)  # 5 MiB

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        if await server.next_request(reader, n):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
            for i in range(0, len(body), 65536):
                writer.write(body[i : i + 65536])
                await writer.drain()
            await reader.read()

    server = await serve(handler)
    response = await client_for(server.url).request("GET", "/", time_limit=10)
    conn = response._conn
    assert conn is not None and conn.transport is not None
    async with asyncio.timeout(5):
        while conn.transport.is_reading():  # nobody reads: the buffer fills up to the mark, then reading stops
            await asyncio.sleep(0)
    held = conn.buffered
    assert http1.HIGH_WATER < held <= http1.HIGH_WATER + 1024 * 1024
    for _ in range(20):  # the loop runs on, but nothing more is read off the socket
        await asyncio.sleep(0)
    assert conn.buffered == held
    received = [chunk async for chunk in response]
    assert b"".join(received) == body
    assert max(map(len, received)) <= http1.HIGH_WATER + 1024 * 1024


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_https_through_an_ssl_context(client_for: Callable[..., http1.Client], tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    argv = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    argv += ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"]
    subprocess.run([*argv, "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    handler = keep_alive(b"secret")
    server = Server(handler)
    server_of[handler] = server
    listener = await asyncio.start_server(server._serve, "127.0.0.1", 0, ssl=server_context)
    port = listener.sockets[0].getsockname()[1]
    try:
        with pytest.raises(http1.ConnectError):  # the system's trust store does not know this certificate
            await client_for(f"https://127.0.0.1:{port}").request("GET", "/", time_limit=5)
        client = client_for(f"https://127.0.0.1:{port}", ssl=ssl.create_default_context(cafile=str(cert)))
        for _ in range(2):
            assert await (await client.request("GET", "/", time_limit=5)).read() == b"secret"
        assert server.connections == 1  # both on one kept-alive TLS connection
        await client.close()
    finally:
        listener.close()


async def test_credentials_in_the_url_become_basic_auth(client_for: Callable[..., http1.Client]) -> None:
    handler = keep_alive()
    server = await serve(handler)
    url = f"http://us%3Aer:p%40ss@127.0.0.1:{server.port}"
    assert await (await client_for(url).request("GET", "/", time_limit=5)).read() == b"ok"
    [(_, _, headers, _)] = server.requests
    assert headers["authorization"] == "Basic dXM6ZXI6cEBzcw=="  # base64("us:er:p@ss")
    assert headers["host"] == f"127.0.0.1:{server.port}"
