"""The bare proxy: the least any Python gateway must do, as the anchor every gateway figure is a ratio to.

Raw ASGI on uvicorn (uvloop, httptools) and one pooled aiohttp session: read the body, parse it, POST Ollama's
/api/chat, and re-encode the answer as an OpenAI chat.completion (or each NDJSON line as an SSE chunk). No auth,
no policy, no tracking. `python -m bench.bare --port P --upstream http://127.0.0.1:N [--workers W]`.

`--client http1` starts `LeanProxy` instead: the same non-streaming path on the gateway's own upstream client
(`ollama_gateway.upstream.http1`), the floor under the gateway's request path once aiohttp is out of it
(`bench/latency.py` measures it at c=1).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import aiohttp
import orjson
import uvicorn

Scope = dict[str, Any]


class BareProxy:
    """An ASGI app that only translates and forwards."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream + "/api/chat"
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.session is not None:
                        await self.session.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["method"] != "POST":  # readiness probe of the harness
            await _ok(send)
            return
        request = orjson.loads(await _body(receive))
        stream = bool(request.get("stream"))
        upstream = {"model": request["model"], "messages": request["messages"], "stream": stream}
        assert self.session is not None
        async with self.session.post(self.upstream, data=orjson.dumps(upstream)) as response:
            if not stream:
                answer = orjson.loads(await response.read())
                out = {
                    "id": "chatcmpl-bare",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer["message"]["content"]},
                            "finish_reason": "stop",
                        }
                    ],
                }
                await send(
                    {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
                )
                await send({"type": "http.response.body", "body": orjson.dumps(out)})
                return
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
            )
            async for line in response.content:
                if not line.strip():
                    continue
                chunk = orjson.loads(line)
                delta = {"content": chunk.get("message", {}).get("content", "")}
                frame = {
                    "object": "chat.completion.chunk",
                    "model": request["model"],
                    "choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if chunk.get("done") else None}],
                }
                await send(
                    {"type": "http.response.body", "body": b"data: " + orjson.dumps(frame) + b"\n\n", "more_body": True}
                )
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})


class LeanProxy:
    """Non-streaming chat only, on the gateway's HTTP/1.1 client: uvicorn + one pooled lean call + JSON."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.client: Any = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        from ollama_gateway.upstream import http1

        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                self.client = http1.Client(self.upstream)
                await send({"type": "lifespan.startup.complete"})
            await self.client.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] != "POST":  # readiness probe of the harness
            await _ok(send)
            return
        request = orjson.loads(await _body(receive))
        upstream = orjson.dumps({"model": request["model"], "messages": request["messages"], "stream": False})
        response = await self.client.request("POST", "/api/chat", upstream, headers=_JSON_HEADERS)
        try:
            answer = orjson.loads(await response.read())
        finally:
            response.close()
        out = orjson.dumps(
            {
                "id": "chatcmpl-lean",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer["message"]["content"]},
                        "finish_reason": "stop",
                    }
                ],
            }
        )
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(out))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": out})


_JSON_HEADERS = {"Content-Type": "application/json"}


async def _ok(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def from_env() -> BareProxy:
    """The app for worker processes (`--workers N`), which cannot be handed an object."""
    return BareProxy(os.environ["BARE_UPSTREAM"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--client", choices=["aiohttp", "http1"], default="aiohttp")
    args = parser.parse_args()
    os.environ["BARE_UPSTREAM"] = args.upstream
    app_class = LeanProxy if args.client == "http1" else BareProxy
    uvicorn.run(
        "bench.bare:from_env" if args.workers > 1 else app_class(args.upstream),
        factory=args.workers > 1,
        workers=args.workers,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
    )
