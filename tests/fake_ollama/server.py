"""The aiohttp application and FakeOllama: a real HTTP server on a loopback port, in its own thread and loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType

from aiohttp import web
from multidict import CIMultiDict

from .control import PREFIX, add_host_header, handle_busy, handle_stats
from .decoding import plain_json
from .embeddings import handle_embed, handle_embeddings
from .errors import METHOD_NOT_ALLOWED_PAGE, NOT_FOUND_PAGE, OllamaError
from .pull import handle_pull
from .routes_generation import STATE_KEY, handle_chat, handle_generate
from .routes_models import (
    handle_copy,
    handle_delete,
    handle_ps,
    handle_root,
    handle_show,
    handle_tags,
    handle_unimplemented,
    handle_version,
)
from .state import FakeState, RecordedRequest
from .streaming import RECORDED_KEY
from .wire import error_response, text_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 256 * 1024 * 1024


@web.middleware
async def _frame(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record the request, then turn routing misses and OllamaError into Ollama's exact bodies."""
    state = request.app[STATE_KEY]
    if request.path.startswith(PREFIX):  # the test-only control routes are neither recorded nor counted
        return await handler(request)
    raw = await request.read()
    state.stats.count(request.method, request.path, raw)
    recorded = RecordedRequest(
        method=request.method,
        path=request.path,
        headers=CIMultiDict(request.headers),
        body=plain_json(raw) if raw and state.record else None,
        raw=raw,
        query=dict(request.query),
    )
    request[RECORDED_KEY] = recorded
    state.note_request(recorded)
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed:
        return text_response(METHOD_NOT_ALLOWED_PAGE, 405)
    except web.HTTPNotFound:
        return text_response(NOT_FOUND_PAGE, 404)
    except OllamaError as exc:
        return error_response(exc.text, exc.status, exc.content_type)


def build_app(state: FakeState) -> web.Application:
    """The routes of Ollama's native API (reference §2.3), wired to `state`."""
    app = web.Application(middlewares=[_frame], client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = state
    app.on_response_prepare.append(add_host_header)
    router = app.router
    router.add_get("/", handle_root)  # GET also answers HEAD
    router.add_get("/api/version", handle_version)
    router.add_get("/api/tags", handle_tags)
    router.add_get("/api/ps", handle_ps, allow_head=False)
    router.add_post("/api/chat", handle_chat)
    router.add_post("/api/generate", handle_generate)
    router.add_post("/api/embed", handle_embed)
    router.add_post("/api/embeddings", handle_embeddings)
    router.add_post("/api/show", handle_show)
    router.add_post("/api/pull", handle_pull)
    router.add_delete("/api/delete", handle_delete)
    router.add_post("/api/copy", handle_copy)
    for path in ("/api/create", "/api/push", "/api/me", "/api/signout"):
        router.add_post(path, handle_unimplemented)
    router.add_post("/api/blobs/{digest}", handle_unimplemented)
    router.add_head("/api/blobs/{digest}", handle_unimplemented)
    router.add_get(f"{PREFIX}stats", handle_stats, allow_head=False)
    router.add_post(f"{PREFIX}busy", handle_busy)
    return app


class FakeOllama(FakeState):
    """A fake Ollama server for tests: `start()`, use `url`, script replies, inspect `requests`, `stop()`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        record: bool = True,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        super().__init__(record=record)
        self._loop_factory = loop_factory
        self.host = host
        self.port = port
        self.stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:54321`."""
        if self._thread is None:
            raise RuntimeError("FakeOllama is not started")
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> FakeOllama:
        """Start serving in a background thread; returns once the port is bound."""
        if self._thread is not None:
            return self
        self.stopping = False
        self._startup_error = None
        self._ready.clear()
        self._thread = threading.Thread(target=self._serve, name="fake-ollama", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("fake Ollama did not start")
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("fake Ollama failed to start") from self._startup_error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving: held streams are abandoned, open connections closed, the thread joined."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self.stopping = True
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def _serve(self) -> None:
        loop = self._loop_factory()
        self._loop = loop
        runner = web.AppRunner(build_app(self), handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        try:
            try:
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
                loop.run_until_complete(site.start())
                self.port = runner.addresses[0][1]
            except BaseException as exc:
                self._startup_error = exc
                self._ready.set()
                return
            self._ready.set()
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            self._loop = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
