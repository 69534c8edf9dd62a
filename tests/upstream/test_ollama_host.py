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
