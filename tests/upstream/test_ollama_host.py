"""OllamaHost against a misbehaving server on loopback: every failure comes out as a typed GatewayError."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from ollama_gateway.core.requests import EmbedRequest
from ollama_gateway.errors import (
    UpstreamStatusError,
    UpstreamStreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from ollama_gateway.upstream.hosts import HostConfig
from ollama_gateway.upstream.ollama_host import OllamaHost


async def _garbage(_: web.Request) -> web.Response:
    return web.Response(text="<html>not json</html>", content_type="text/html")


async def _wrong_shape(_: web.Request) -> web.Response:
    return web.json_response({"embeddings": "nope"})


async def _models_not_a_list(_: web.Request) -> web.Response:
    return web.json_response({"models": {"a": 1}})


async def _failing(_: web.Request) -> web.Response:
    return web.json_response({"error": "model runner has unexpectedly stopped"}, status=500)


@pytest.fixture
async def misbehaving() -> AsyncIterator[OllamaHost]:
    app = web.Application()
    app.router.add_get("/api/tags", _garbage)
    app.router.add_post("/api/show", _garbage)
    app.router.add_post("/api/embed", _wrong_shape)
    app.router.add_get("/api/ps", _models_not_a_list)
    app.router.add_get("/api/version", _failing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    host = OllamaHost(HostConfig(id="h", url=f"http://127.0.0.1:{port}"))
    await host.start()
    try:
        yield host
    finally:
        await host.close()
        await runner.cleanup()


async def test_malformed_json_is_a_bad_gateway_not_a_crash(misbehaving: OllamaHost) -> None:
    with pytest.raises(UpstreamStreamError, match="malformed JSON on /api/tags"):
        await misbehaving.models()
    with pytest.raises(UpstreamStreamError, match="malformed JSON on /api/show"):
        await misbehaving.show("m")
    with pytest.raises(UpstreamStreamError, match="/api/embed"):
        await misbehaving.embed(EmbedRequest(model="m", inputs=("x",)), time_limit=5)
    with pytest.raises(UpstreamStreamError, match="models is not a list"):
        await misbehaving.running()


async def test_ollama_error_status_keeps_its_text(misbehaving: OllamaHost) -> None:
    with pytest.raises(UpstreamStatusError) as info:
        await misbehaving.version()
    assert info.value.upstream_status == 500 and info.value.message == "model runner has unexpectedly stopped"


async def test_refused_connection_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    host = OllamaHost(HostConfig(id="h", url=f"http://127.0.0.1:{port}"))
    await host.start()
    try:
        with pytest.raises(UpstreamUnavailableError, match="cannot reach Ollama"):
            await host.version()
    finally:
        await host.close()


async def test_a_silent_host_is_a_timeout() -> None:
    async def silent(_: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_get("/api/version", silent)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    host = OllamaHost(HostConfig(id="h", url=f"http://127.0.0.1:{port}"))
    await host.start()
    try:
        with pytest.raises(UpstreamTimeoutError, match=r"within 0\.2 s"):
            await host.version(time_limit=0.2)
    finally:
        await host.close()
        await runner.cleanup()


async def _raw_host(answer: bytes, *, hang_up: bool = True) -> tuple[OllamaHost, asyncio.Server, asyncio.Event]:
    """A host on a raw server that writes `answer` to the first request, then resets (or waits for the client)."""
    closed_by_client = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        if hang_up:
            writer.transport.abort()
            return
        while await reader.read(65536):
            pass
        closed_by_client.set()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    host = OllamaHost(HostConfig(id="h", url=f"http://127.0.0.1:{port}"))
    await host.start()
    return host, server, closed_by_client


async def test_a_connection_closed_before_any_answer_is_unavailable() -> None:
    host, server, _ = await _raw_host(b"")
    try:
        with pytest.raises(UpstreamUnavailableError, match="cannot reach Ollama"):
            await host.version()
    finally:
        await host.close()
        server.close()


async def test_a_connection_broken_mid_stream_is_a_stream_error() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    host, server, _ = await _raw_host(head + b'12\r\n{"status":"pull"}\n\r\n')
    got: list[object] = []
    try:
        with pytest.raises(UpstreamStreamError, match="connection to Ollama broke"):
            async for progress in host.pull("m"):
                got.append(progress.event)
        assert got == [{"status": "pull"}]
    finally:
        await host.close()
        server.close()


async def test_a_relay_left_early_closes_the_upstream_connection() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    host, server, closed_by_client = await _raw_host(head + b"3\r\none\r\n", hang_up=False)
    try:
        async with host.relay("/api/chat", b"{}", model="m", time_limit=5) as reply:
            assert (reply.status, reply.content_type) == (200, "application/x-ndjson")
            assert await anext(reply.chunks) == b"one"
        await asyncio.wait_for(closed_by_client.wait(), 5)  # Ollama learns to stop generating
    finally:
        await host.close()
        server.close()


async def test_a_connect_that_hangs_is_unavailable_after_the_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    async def never(*args: object, **kwargs: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", never)
    host = OllamaHost(HostConfig(id="h", url="http://127.0.0.1:9"), connect_timeout=0.05)
    await host.start()
    try:
        with pytest.raises(UpstreamUnavailableError, match=r"did not accept a connection within 0\.05 s"):
            await host.version()
    finally:
        await host.close()
