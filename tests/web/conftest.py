"""In-process gateways over scripted hosts: the whole app (routes, policy, fleet) with no sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ollama_gateway.app import create_app
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.upstream.hosts import HostConfig
from ollama_gateway.upstream.scripted import ScriptedUpstream
from tests.support.gateway import gateway_settings


@dataclass
class Scripted:
    """A running in-process gateway, its scripted hosts by URL, and an HTTP client bound to it."""

    client: httpx.AsyncClient
    gateway: Gateway
    hosts: dict[str, ScriptedUpstream]
    app: Any

    async def key(self, name: str = "k", **options: Any) -> str:
        """A new API key's secret."""
        _, secret = await self.gateway.storage.keys.create(name=name, **options)
        return secret

    def host(self, index: int) -> ScriptedUpstream:
        """The index-th host, in the order given."""
        return list(self.hosts.values())[index]


ScriptedFactory = Callable[..., AbstractAsyncContextManager[Scripted]]


@pytest.fixture
def scripted_gateway(tmp_path: Path) -> ScriptedFactory:
    """`async with scripted_gateway({"http://a": ["m:latest"]}, **settings) as gw:` — hosts by URL with their models."""

    @asynccontextmanager
    async def start(models_by_url: dict[str, list[str]], **overrides: Any) -> AsyncIterator[Scripted]:
        hosts = {
            url: ScriptedUpstream(HostConfig(id="unset", url=url), models_present=list(models))
            for url, models in models_by_url.items()
        }

        def factory(config: HostConfig) -> ScriptedUpstream:
            host = hosts[config.url]
            host.config = config
            return host

        directory = tmp_path / f"gw{len(list(tmp_path.iterdir()))}"
        directory.mkdir()
        settings = gateway_settings(
            directory, next(iter(hosts)), ollama_urls=",".join(hosts), host_probe_seconds=3600.0, **overrides
        )
        app = create_app(settings, host_factory=factory)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                yield Scripted(client=client, gateway=app.state.gateway, hosts=hosts, app=app)

    return start
