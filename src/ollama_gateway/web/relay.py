"""Relaying Ollama's native responses byte for byte, while noting usage and mid-stream errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import CancelledError, GatewayError, UpstreamStatusError, UpstreamStreamError
from ollama_gateway.protocols.framing import NDJSONDecoder
from ollama_gateway.protocols.ollama.decode import usage_of
from ollama_gateway.service.exchange import Exchange
from ollama_gateway.upstream.port import Placement, Upstream
from ollama_gateway.web.streaming import ClientWatch


class RelayResponse(Response):
    """Sends `body` to Ollama and streams the answer back unchanged; the exchange learns how it went."""

    def __init__(
        self,
        upstream: Upstream,
        path: str,
        body: bytes,
        *,
        model: str,
        placement: Placement,
        exchange: Exchange | None,
        headers: dict[str, str],
        time_limit: float | None,
        error_body: Any,
        settle: Callable[[], Awaitable[None]] | None = None,
        cancel_requested: Callable[[], bool] = lambda: False,
        cancel_error: Callable[[], GatewayError] = lambda: CancelledError("cancelled"),
    ) -> None:
        self.status_code = 200
        self.background = None
        self.body = b""
        self.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self._upstream, self._path, self._payload = upstream, path, body
        self._model, self._placement = model, placement
        self._exchange, self._time_limit, self._error_body = exchange, time_limit, error_body
        self._settle, self._cancel_requested, self._cancel_error = settle, cancel_requested, cancel_error
        self._decoder = NDJSONDecoder()
        self._error: GatewayError | None = None
        self._usage = Usage()
        self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Relay, cancelling the upstream request if the client goes away.

        The last byte goes out only after the exchange is recorded (and, with USAGE_DURABILITY=sync, its usage
        row written). A request cancelled by the gateway (shutdown, the task API) ends with Ollama's error
        shape: an `{"error": ...}` line mid-stream, or an error answer before anything was sent.
        """
        main = asyncio.current_task()
        assert main is not None
        watch = ClientWatch(scope, receive, main.cancel)
        ending: list[dict[str, Any]] = []
        try:
            ending = await self._relay(send)
        except asyncio.CancelledError:
            if not (watch.gone or self._cancel_requested()):
                raise
            main.uncancel()
            if watch.gone:
                self._error = CancelledError("client disconnected")
            else:
                self._error = self._cancel_error()
                ending = self._error_ending(self._error)
        finally:
            await watch.close()
            if self._exchange is not None:
                self._exchange.usage = self._usage
                self._exchange.finish(self._error)
        if ending:
            if self._settle is not None:
                await self._settle()
            for message in ending:
                await send(message)

    async def _relay(self, send: Send) -> list[dict[str, Any]]:
        """Stream Ollama's answer; the messages that end the response, sent once the exchange is recorded."""
        try:
            async with self._upstream.relay(
                self._path, self._payload, model=self._model, time_limit=self._time_limit, placement=self._placement
            ) as up:
                # Only Ollama's content type is passed on; the server adds its own date and server headers.
                headers = list(self.raw_headers)
                if up.content_type:
                    headers.append((b"content-type", up.content_type.encode("latin-1")))
                await send({"type": "http.response.start", "status": up.status, "headers": headers})
                self._started = True
                async for chunk in up.chunks:
                    self._observe(chunk, up.status)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                self._observe(b"", up.status, final=True)
        except GatewayError as error:
            self._error = error
            return self._error_ending(error)
        return [{"type": "http.response.body", "body": b"", "more_body": False}]

    def _error_ending(self, error: GatewayError) -> list[dict[str, Any]]:
        """An error answer, or (once the answer has started) an NDJSON error line and the end of the body."""
        status, body = self._error_body(error)
        if self._started:  # Ollama's own mid-stream error: one more NDJSON line
            return [{"type": "http.response.body", "body": orjson.dumps(body) + b"\n", "more_body": False}]
        headers = [*self.raw_headers, (b"content-type", b"application/json")]
        return [
            {"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": orjson.dumps(body), "more_body": False},
        ]

    def _observe(self, chunk: bytes, status: int, *, final: bool = False) -> None:
        try:
            objects = self._decoder.flush() if final else self._decoder.decode(chunk)
        except UpstreamStreamError:
            return  # not NDJSON/JSON: relayed as is, nothing to learn from it
        for obj in objects:
            if not isinstance(obj, dict):
                continue
            if "error" in obj:
                text = str(obj["error"])
                self._error = UpstreamStatusError(status, text) if status >= 400 else UpstreamStreamError(text)
            elif obj.get("done") or "embeddings" in obj or "embedding" in obj:
                self._usage = usage_of(obj)
