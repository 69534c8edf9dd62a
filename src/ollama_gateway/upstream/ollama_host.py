"""One Ollama server: the native wire end to end, over pooled keep-alive connections (`upstream.http1`).

Bodies are built and decoded by `protocols.ollama`; time limits are named constants; one context manager,
`_mapped`, turns every transport failure and every malformed answer into a `GatewayError`.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

import orjson

from ollama_gateway.core.embeddings import EmbedResult
from ollama_gateway.core.events import Event
from ollama_gateway.core.requests import ChatRequest, EmbedRequest, GenerateRequest
from ollama_gateway.errors import (
    GatewayError,
    UpstreamStatusError,
    UpstreamStreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from ollama_gateway.protocols.framing import NDJSONDecoder
from ollama_gateway.protocols.ollama import decode as ollama_decode
from ollama_gateway.protocols.ollama import encode as ollama_encode
from ollama_gateway.upstream import http1
from ollama_gateway.upstream.hosts import HostConfig
from ollama_gateway.upstream.port import ANYWHERE, Placement, PullProgress, RelayReply

# Named time limits (seconds) for the calls that are not a client's generation.
CONTROL_SECONDS = 15.0  # /api/tags, /api/ps, /api/show
PROBE_SECONDS = 3.0  # health probes
DELETE_SECONDS = 60.0
PULL_SECONDS: float | None = None  # a pull may take hours; progress lines keep it alive

T = TypeVar("T")

_ID_ALPHABET = string.ascii_lowercase + string.digits
_JSON = {"Content-Type": "application/json"}


def new_tool_call_id() -> str:
    """An id in Ollama's own shape: `call_` and 8 lower-case alphanumerics."""
    return "call_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


class OllamaHost:
    """The upstream port for exactly one Ollama server."""

    def __init__(self, config: HostConfig, *, connect_timeout: float = 5.0, max_connections: int = 256) -> None:
        self.config = config
        self.base_url = config.url.rstrip("/")
        self._connect_timeout = connect_timeout
        self._max_connections = max_connections
        self._client: http1.Client | None = None
        self._auth = {"Authorization": config.auth_header} if config.auth_header else None

    async def start(self) -> None:
        """Open the connection pool."""
        if self._client is None:
            self._client = http1.Client(
                self.base_url,
                max_connections=self._max_connections,
                connect_timeout=self._connect_timeout,
                keepalive=30.0,
                headers=self._auth,
            )

    async def close(self) -> None:
        """Close the pool and every open connection."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    # -- the port ---------------------------------------------------------------------------------------------

    def chat(self, request: ChatRequest, *, time_limit: float, placement: Placement = ANYWHERE) -> AsyncIterator[Event]:
        """Run a chat on this host."""
        body = ollama_encode.chat_body(request)
        if request.stop_sequences:
            body["stream"] = True  # so the gateway can stop reading (and Ollama generating) at the match
        return self._objects("/api/chat", body, time_limit, ollama_decode.ChunkDecoder(new_tool_call_id).decode)

    def generate(
        self, request: GenerateRequest, *, time_limit: float, placement: Placement = ANYWHERE
    ) -> AsyncIterator[Event]:
        """Run a completion on this host."""
        decoder = ollama_decode.ChunkDecoder(new_tool_call_id, generate=True)
        return self._objects("/api/generate", ollama_encode.generate_body(request), time_limit, decoder.decode)

    async def embed(self, request: EmbedRequest, *, time_limit: float, placement: Placement = ANYWHERE) -> EmbedResult:
        """Embed on this host."""
        answer = await self._json("POST", "/api/embed", ollama_encode.embed_body(request), time_limit)
        with self._mapped("/api/embed", time_limit):
            return ollama_decode.parse_embed_response(answer)

    @asynccontextmanager
    async def relay(
        self, path: str, body: bytes, *, model: str, time_limit: float | None, placement: Placement = ANYWHERE
    ) -> AsyncIterator[RelayReply]:
        """POST `body` to `path` and hand back the answer as it comes, whatever its status."""
        with self._mapped(path, time_limit):
            response = await self._request("POST", path, body, time_limit)
            try:
                yield RelayReply(response.status, response.headers.get("content-type"), self._body(response, path))
            finally:
                response.close()

    async def models(self) -> list[dict[str, Any]]:
        """This host's `/api/tags` entries."""
        return _entries(await self._json("GET", "/api/tags", None, CONTROL_SECONDS), "/api/tags")

    async def running(self) -> list[dict[str, Any]]:
        """This host's `/api/ps` entries."""
        return _entries(await self._json("GET", "/api/ps", None, CONTROL_SECONDS), "/api/ps")

    async def show(self, model: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """`/api/show` of `model`."""
        answer = await self._json("POST", "/api/show", {**(extra or {}), "model": model}, CONTROL_SECONDS)
        return _object(answer, "/api/show")

    async def version(self, time_limit: float = PROBE_SECONDS) -> dict[str, Any]:
        """`/api/version`."""
        return _object(await self._json("GET", "/api/version", None, time_limit), "/api/version")

    async def pull(self, model: str, *, host: str | None = None) -> AsyncIterator[PullProgress]:
        """Pull `model`; Ollama's progress objects as they come."""

        def progress(obj: Any) -> tuple[PullProgress, ...]:
            return (PullProgress(self.config.id, obj),) if isinstance(obj, dict) else ()

        async for item in self._objects("/api/pull", {"model": model, "stream": True}, PULL_SECONDS, progress):
            yield item

    async def delete(self, model: str, *, host: str | None = None) -> dict[str, str]:
        """Delete `model` from this host."""
        await self._json("DELETE", "/api/delete", {"model": model}, DELETE_SECONDS)
        return {self.config.label: "deleted"}

    # -- the wire ---------------------------------------------------------------------------------------------

    async def _objects(
        self, path: str, body: dict[str, Any], time_limit: float | None, convert: Callable[[Any], Iterable[T]]
    ) -> AsyncIterator[T]:
        """POST `body` and yield what `convert` makes of each JSON object of the answer (NDJSON lines, or the one
        object of a non-stream): events, progress. One generator from the bytes to the caller.

        Closing the iterator early closes the connection, which is how Ollama learns to stop generating.
        """
        with self._mapped(path, time_limit):
            response = await self._request("POST", path, orjson.dumps(body), time_limit)
            try:
                if response.status >= 400:
                    raise await _status_error(response)
                decoder = NDJSONDecoder()
                with self._mapped(path, time_limit, started=True):
                    async for chunk in response:
                        for obj in decoder.decode(chunk):
                            for item in convert(obj):
                                yield item
                    for obj in decoder.flush():
                        for item in convert(obj):
                            yield item
            finally:
                response.close()

    async def _json(self, method: str, path: str, body: Any, time_limit: float | None) -> Any:
        """One request whose whole answer is JSON (or empty, which gives None)."""
        data = orjson.dumps(body) if body is not None else None
        with self._mapped(path, time_limit):
            response = await self._request(method, path, data, time_limit)
            try:
                if response.status >= 400:
                    raise await _status_error(response)
                with self._mapped(path, time_limit, started=True):
                    raw = await response.read()
            finally:
                response.close()
            return orjson.loads(raw) if raw.strip() else None

    async def _body(self, response: http1.Response, path: str) -> AsyncIterator[bytes]:
        try:
            with self._mapped(path, None, started=True):
                async for chunk in response:
                    yield chunk
        finally:
            response.close()

    async def _request(self, method: str, path: str, body: bytes | None, time_limit: float | None) -> http1.Response:
        if self._client is None:
            raise RuntimeError("OllamaHost.start() was not called")
        headers = _JSON if body is not None else None
        return await self._client.request(method, path, body, headers=headers, time_limit=time_limit)

    def _mapped(self, path: str, time_limit: float | None, *, started: bool = False) -> _Mapped:
        """Every way a call to this host can fail, as a GatewayError — the one place that knows the wire client."""
        return _Mapped(self, path, time_limit, started)


class _Mapped:
    """`OllamaHost._mapped`: a class rather than a generator context manager, as it wraps every call twice."""

    __slots__ = ("host", "path", "started", "time_limit")

    def __init__(self, host: OllamaHost, path: str, time_limit: float | None, started: bool) -> None:
        self.host = host
        self.path = path
        self.time_limit = time_limit
        self.started = started

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None or isinstance(exc, GatewayError) or not isinstance(exc, Exception):
            return  # nothing went wrong, it is already mapped, or it is a cancellation: let it through
        host, path = self.host, self.path
        if isinstance(exc, http1.ConnectTimeout):
            # The host is there but does not take the connection.
            raise UpstreamUnavailableError(
                f"Ollama at {host.base_url} did not accept a connection within {host._connect_timeout:g} s"
            ) from exc
        if isinstance(exc, TimeoutError):  # http1.ResponseTimeout: the request's own limit ran out
            limit = f"within {self.time_limit:g} s" if self.time_limit else "in time"
            raise UpstreamTimeoutError(f"Ollama did not answer {limit}") from exc
        if isinstance(exc, http1.ConnectError):
            raise UpstreamUnavailableError(f"cannot reach Ollama at {host.base_url}: {_describe(exc)}") from exc
        if isinstance(exc, http1.ConnectionBroken):
            if self.started or exc.started:
                raise UpstreamStreamError(f"connection to Ollama broke: {_describe(exc)}") from exc
            raise UpstreamUnavailableError(f"cannot reach Ollama at {host.base_url}: {_describe(exc)}") from exc
        if isinstance(exc, http1.HTTPError):  # ProtocolError: not HTTP
            raise UpstreamStreamError(f"connection to Ollama broke: {_describe(exc)}") from exc
        if isinstance(exc, orjson.JSONDecodeError):
            raise UpstreamStreamError(f"Ollama sent malformed JSON on {path}: {exc}") from exc
        if isinstance(exc, KeyError | TypeError | ValueError):
            raise UpstreamStreamError(f"unexpected answer from Ollama on {path}: {_describe(exc)}") from exc


async def _status_error(response: http1.Response) -> UpstreamStatusError:
    """Ollama's `{"error": text}` (or plain text) as a typed error that keeps its status and text."""
    try:
        raw = await response.read()
    except (TimeoutError, http1.HTTPError):
        raw = b""
    message = raw.decode("utf-8", "replace").strip()
    try:
        parsed = orjson.loads(raw)
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
            message = parsed["error"]
    except orjson.JSONDecodeError:
        pass
    return UpstreamStatusError(response.status, message or f"upstream status {response.status}")


def _object(answer: Any, path: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise UpstreamStreamError(f"unexpected answer from Ollama on {path}: not a JSON object")
    return answer


def _entries(answer: Any, path: str) -> list[dict[str, Any]]:
    models = _object(answer, path).get("models") or []
    if not isinstance(models, list):
        raise UpstreamStreamError(f"unexpected answer from Ollama on {path}: models is not a list")
    return [m for m in models if isinstance(m, dict)]


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
