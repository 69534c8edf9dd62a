"""A real gateway served by uvicorn on a loopback port, in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ollama_gateway.app import create_app
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.serving import GracefulServer, build_config
from ollama_gateway.settings import Settings, load_settings

T = TypeVar("T")


class GatewayServer:
    """Starts the gateway app on 127.0.0.1 (ephemeral port) and lets tests call into its loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # As `serve` does: X-Forwarded-For is the app's business (TRUSTED_PROXIES), not uvicorn's.
        config = build_config(self.app, settings, log_level="warning")
        self._server = GracefulServer(config, settings.shutdown_grace_seconds)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="gateway-server", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # surfaced by start()
            self._error = exc
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def start(self, wait_seconds: float = 20.0) -> GatewayServer:
        """Start serving; returns once the lifespan finished and the socket accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + wait_seconds
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"gateway failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError("gateway did not start in time")
            time.sleep(0.01)  # polling a condition with a deadline, not a fixed wait
        return self

    def stop(self) -> None:
        """Shut down gracefully (lifespan shutdown flushes usage and task states); stopping twice is fine."""
        if not self._thread.is_alive():
            return
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()
        if self._thread.is_alive():
            raise RuntimeError("gateway did not stop")

    @property
    def gateway(self) -> Gateway:
        """The running gateway's services (only touch them through `call`)."""
        gateway: Gateway = self.app.state.gateway
        return gateway

    def call(self, make: Callable[[Gateway], Awaitable[T]], wait_seconds: float = 30.0) -> T:
        """Run a coroutine on the server's loop and return its result."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(_invoke(make, self.gateway), self._loop)
        return future.result(wait_seconds)

    def create_key(self, name: str = "test", **options: Any) -> str:
        """Create an API key in the gateway's database; returns its secret."""
        _, secret = self.call(lambda g: g.storage.keys.create(name=name, **options))
        return secret

    def flush_usage(self) -> None:
        """Write buffered usage records now."""
        self.call(lambda g: g.usage.flush())


async def _invoke(make: Callable[[Gateway], Awaitable[T]], gateway: Gateway) -> T:
    return await make(gateway)


def gateway_settings(tmp_path: Path, ollama_url: str, **overrides: Any) -> Settings:
    """Settings for a test gateway: its own SQLite file, embedded task store, fast timers."""
    values: dict[str, Any] = {
        "ollama_url": ollama_url,
        "data_dir": tmp_path,
        "database_url": f"sqlite:///{tmp_path / 'gateway.db'}",
        "usage_flush_seconds": 0.2,
        "heartbeat_sec": 10.0,
        "ping_interval_sec": 10.0,
        "shutdown_grace_seconds": 5.0,  # a test that leaves a stream open must not hold up stop() for long
        "redis_url": None,
        "redis_host": None,
    }
    values.update(overrides)
    return load_settings(_env_file=None, **values)


@pytest.fixture
def start_gateway(tmp_path: Path, fake_ollama: Any) -> Iterator[Callable[..., GatewayServer]]:
    """A factory: start a gateway in front of the fake Ollama, with setting overrides; stopped after the test."""
    servers: list[GatewayServer] = []

    def start(**overrides: Any) -> GatewayServer:
        directory = tmp_path / f"gw{len(servers)}"
        directory.mkdir()
        url = overrides.pop("ollama_url", fake_ollama.url)
        server = GatewayServer(gateway_settings(directory, url, **overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def gateway_server(start_gateway: Callable[..., GatewayServer]) -> GatewayServer:
    """A gateway with default test settings."""
    return start_gateway()
