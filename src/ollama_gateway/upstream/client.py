"""The pooled HTTP client for one Ollama host; every transport failure becomes a typed GatewayError here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from ollama_gateway.errors import (
    GatewayError,
    UpstreamStatusError,
    UpstreamStreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from ollama_gateway.protocols.framing import NDJSONDecoder

JSON_HEADERS = {"Content-Type": "application/json"}


class OllamaClient:
    """Talks to one Ollama host over a shared keep-alive connection pool."""

    def __init__(self, base_url: str, *, connect_timeout: float = 5.0, max_connections: int = 256) -> None:
        self.base_url = base_url.rstrip("/")
        self._connect_timeout = connect_timeout
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}

    async def start(self) -> None:
        """Open the connection pool (called from the app's lifespan)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=30, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                json_serialize=lambda o: orjson.dumps(o).decode(),
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )

    async def close(self) -> None:
        """Close the pool and every open connection."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open session; the app starts it before serving."""
        if self._session is None:
            raise RuntimeError("OllamaClient.start() was not called")
        return self._session

    def _timeout(self, seconds: float | None) -> aiohttp.ClientTimeout:
        # ClientTimeout is an attrs class and costly to build; requests reuse a handful of limits.
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            if len(self._timeouts) > 256:
                self._timeouts.clear()
            timeout = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds, connect=self._connect_timeout)
        return timeout

    async def objects(self, path: str, body: dict[str, Any], *, time_limit: float | None = None) -> AsyncIterator[Any]:
        """POST `body` and yield each JSON object of the answer: NDJSON lines, or the one object of a non-stream.

        Closing the iterator early closes the connection, which is how Ollama learns to stop generating.
        """
        async with self._send("POST", path, body, time_limit) as response:
            decoder = NDJSONDecoder()
            try:
                async for chunk in response.content.iter_any():
                    for obj in decoder.decode(chunk):
                        yield obj
                for obj in decoder.flush():
                    yield obj
            except TimeoutError as exc:
                raise UpstreamTimeoutError(f"Ollama did not finish within {time_limit} s") from exc
            except aiohttp.ClientError as exc:
                raise UpstreamStreamError(f"connection to Ollama broke: {_describe(exc)}") from exc

    async def request_json(self, method: str, path: str, body: Any = None, *, time_limit: float | None = None) -> Any:
        """One request whose whole answer is JSON (or empty, which yields None)."""
        async with self._send(method, path, body, time_limit) as response:
            try:
                raw = await response.read()
            except TimeoutError as exc:
                raise UpstreamTimeoutError(f"Ollama did not answer within {time_limit} s") from exc
            except aiohttp.ClientError as exc:
                raise UpstreamStreamError(f"connection to Ollama broke: {_describe(exc)}") from exc
        return orjson.loads(raw) if raw.strip() else None

    @asynccontextmanager
    async def raw(
        self, method: str, path: str, body: bytes | None, *, time_limit: float | None = None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """An open response with any status, for relaying Ollama's native API unchanged."""
        try:
            async with self.session.request(
                method,
                self.base_url + path,
                data=body,
                headers=JSON_HEADERS if body else None,
                timeout=self._timeout(time_limit),
            ) as response:
                yield response
        except TimeoutError as exc:
            raise UpstreamTimeoutError(f"Ollama did not answer within {time_limit} s") from exc
        except aiohttp.ClientConnectionError as exc:
            raise UpstreamUnavailableError(f"cannot reach Ollama at {self.base_url}: {_describe(exc)}") from exc

    @asynccontextmanager
    async def _send(
        self, method: str, path: str, body: Any, time_limit: float | None
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        data = orjson.dumps(body) if body is not None else None
        try:
            async with self.session.request(
                method,
                self.base_url + path,
                data=data,
                headers=JSON_HEADERS if data else None,
                timeout=self._timeout(time_limit),
            ) as response:
                if response.status >= 400:
                    raise await _status_error(response)
                yield response
        except GatewayError:
            raise
        except TimeoutError as exc:
            raise UpstreamTimeoutError(f"Ollama did not answer within {time_limit} s") from exc
        except aiohttp.ClientConnectionError as exc:
            raise UpstreamUnavailableError(f"cannot reach Ollama at {self.base_url}: {_describe(exc)}") from exc


async def _status_error(response: aiohttp.ClientResponse) -> UpstreamStatusError:
    """Ollama's `{"error": text}` (or plain text) as a typed error that keeps its status and text."""
    try:
        raw = await response.read()
    except (TimeoutError, aiohttp.ClientError):
        raw = b""
    message = raw.decode("utf-8", "replace").strip()
    try:
        parsed = orjson.loads(raw)
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
            message = parsed["error"]
    except orjson.JSONDecodeError:
        pass
    return UpstreamStatusError(response.status, message or f"upstream status {response.status}")


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
