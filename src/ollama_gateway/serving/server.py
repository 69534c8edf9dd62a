"""The uvicorn server `ollama-gateway serve` runs: bounded graceful shutdown, exit 0 on SIGTERM, fd limit raised."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
import threading
from collections.abc import Callable, Generator
from typing import Any, Final

import uvicorn
from starlette.applications import Starlette

from ollama_gateway.serving.limits import GatewayConfig, HttpLimits
from ollama_gateway.settings import Settings

log = logging.getLogger(__name__)

# After the grace, ended streams need a moment to write their error frame and record their outcome.
ENDING_SECONDS: Final = 5.0
FD_TARGET_MAX: Final = 1_048_576
_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


def http_limits(settings: Settings) -> HttpLimits:
    """The HTTP limits configured in `settings`."""
    return HttpLimits(
        max_header_bytes=settings.http_max_header_bytes,
        header_timeout=settings.http_header_timeout,
        body_timeout=settings.http_body_timeout,
        max_connections=settings.http_max_connections,
    )


def build_config(app: Any, settings: Settings, **options: Any) -> GatewayConfig:
    """uvicorn settings for the gateway: our HTTP protocol and limits, lifespan on, the shutdown bound."""
    options.setdefault("log_level", settings.log_level)
    options.setdefault("access_log", False)
    options.setdefault("proxy_headers", False)  # X-Forwarded-For is honoured only from TRUSTED_PROXIES, by the app
    options.setdefault("timeout_keep_alive", int(settings.http_keepalive_timeout))
    options.setdefault("server_header", False)  # no "server: uvicorn": names the stack, and costs every response
    return GatewayConfig(
        app,
        limits=http_limits(settings),
        lifespan="on",
        loop="auto",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds + ENDING_SECONDS),
        **options,
    )


class GracefulServer(uvicorn.Server):
    """uvicorn's server, whose shutdown ends what is still running once `grace` seconds have passed.

    uvicorn stops accepting and lets requests finish; at the grace we end the remaining ones ourselves (each
    stream gets its protocol's error frame, each task FAILED "gateway shutting down") and uvicorn waits for
    them to wind down before the lifespan flushes usage. A SIGTERM ends the process with status 0.
    """

    def __init__(self, config: uvicorn.Config, grace: float) -> None:
        super().__init__(config)
        self.grace = grace

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Stop accepting, wait up to the grace, then end the remaining requests."""
        timer = asyncio.get_running_loop().call_later(self.grace, self._end_inflight)
        try:
            await super().shutdown(sockets)
        finally:
            timer.cancel()

    def _end_inflight(self) -> None:
        app = _starlette_app(self.config.loaded_app)
        gateway = getattr(app.state, "gateway", None) if app is not None else None
        if gateway is None:
            return
        ended = gateway.end_inflight()
        log.warning("shutdown grace of %.0fs over: ended %d request(s) still running", self.grace, ended)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """uvicorn's handlers, without re-raising the signal afterwards: a clean shutdown exits 0."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def _starlette_app(app: Any) -> Starlette | None:
    # uvicorn wraps the app (proxy headers, logging); each wrapper keeps the next one as `.app`.
    for _ in range(10):
        if isinstance(app, Starlette):
            return app
        app = getattr(app, "app", None)
    return None


def raise_fd_limit(target: int | None = None) -> tuple[int, int]:
    """Raise the soft open-files limit towards the hard one (or `target`); returns the (old, new) soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = FD_TARGET_MAX if hard == resource.RLIM_INFINITY else hard
    wanted = min(ceiling, target if target is not None else ceiling)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, wanted, exc)
            return soft, soft
        return soft, wanted
    return soft, soft


def serve(settings: Settings, *, host: str, port: int, workers: int, app_factory: Callable[[], Any]) -> None:
    """Run the gateway in this process (workers == 1) or under a small supervisor of `workers` processes."""
    old, new = raise_fd_limit()
    if new < 2 * settings.http_max_connections + 64:
        log.warning("open-files limit %d is low for HTTP_MAX_CONNECTIONS=%d", new, settings.http_max_connections)
    elif new != old:
        log.info("open-files limit raised from %d to %d", old, new)
    if workers == 1:
        config = build_config(app_factory(), settings, host=host, port=port)
        GracefulServer(config, settings.shutdown_grace_seconds).run()
        return
    from ollama_gateway.serving.workers import run_workers

    config = build_config(
        "ollama_gateway.app:create_app", settings, host=host, port=port, factory=True, workers=workers
    )
    run_workers(config, workers, settings.shutdown_grace_seconds)
