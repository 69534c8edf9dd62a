"""Upstream client micro-benchmark (#12): aiohttp as OllamaHost had it against `upstream.http1`, on the fake Ollama.

Non-streaming POST /api/chat at concurrency 1 and 32; for each client: requests per second and the CPU time of
this process per request (`time.process_time`, so the fake's own work is not counted). Each pairing runs in
ABBA order to even out drift. `python -m bench.client` (loopback only; a few seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import orjson

from bench.run import MESSAGES, start_fake, wait_http
from ollama_gateway.upstream import http1

BODY = orjson.dumps({"model": "llama3.2", "messages": MESSAGES, "stream": False})
JSON = {"Content-Type": "application/json"}
Call = Callable[[], Awaitable[None]]


@dataclass
class Figures:
    """What one client did at one concurrency, summed over its rounds."""

    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.requests * 1e6


async def aiohttp_client(url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    """A session tuned as OllamaHost had it: its connector, no decompression, no User-Agent, a cached timeout."""
    connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=30, ttl_dns_cache=60)
    session = aiohttp.ClientSession(connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",))
    timeout = aiohttp.ClientTimeout(total=60, sock_connect=5)

    async def call() -> None:
        async with session.post(url + "/api/chat", data=BODY, headers=JSON, timeout=timeout) as response:
            assert response.status == 200
            await response.read()

    return call, session.close


async def lean_client(url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    """upstream.http1 as OllamaHost uses it."""
    client = http1.Client(url, max_connections=256, connect_timeout=5)

    async def call() -> None:
        response = await client.request("POST", "/api/chat", BODY, headers=JSON, time_limit=60)
        try:
            assert response.status == 200
            await response.read()
        finally:
            response.close()

    return call, client.close


async def run(call: Call, concurrency: int, total: int, into: Figures) -> None:
    """`total` calls by `concurrency` workers; adds wall and CPU time to `into`."""
    for _ in range(20):  # warm-up: connections, caches
        await call()
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    into.seconds += time.perf_counter() - wall
    into.cpu += time.process_time() - cpu
    into.requests += total


async def measure(url: str, requests: int) -> dict[tuple[str, int], Figures]:
    await wait_http(url + "/api/version")
    makers = {"aiohttp": aiohttp_client, "http1": lean_client}
    results: dict[tuple[str, int], Figures] = {}
    for concurrency in (1, 32):
        total = requests if concurrency == 32 else max(requests // 3, 50)
        for name in ("aiohttp", "http1", "http1", "aiohttp"):
            call, close = await makers[name](url)
            try:
                await run(call, concurrency, total, results.setdefault((name, concurrency), Figures()))
            finally:
                await close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="per round at c=32 (a third of it at c=1)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="the gateway runs uvloop")
    args = parser.parse_args()
    url, proc = start_fake(tokens=20)
    try:
        if args.loop == "uvloop":
            import uvloop

            results = uvloop.run(measure(url, args.requests))
        else:
            results = asyncio.run(measure(url, args.requests))
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"non-streaming POST /api/chat on the fake Ollama ({args.loop}), client process only")
    print(f"{'c':>3} {'client':<8} {'requests':>8} {'rps':>8} {'CPU µs/req':>11}")
    for concurrency in (1, 32):
        old, new = results[("aiohttp", concurrency)], results[("http1", concurrency)]
        for name, fig in (("aiohttp", old), ("http1", new)):
            print(f"{concurrency:>3} {name:<8} {fig.requests:>8} {fig.rps:>8.0f} {fig.cpu_us:>11.0f}")
        rps, cpu = new.rps / old.rps, new.cpu_us / old.cpu_us
        print(f"{concurrency:>3} ratio    http1/aiohttp: rps {rps:.2f}x, CPU per request {cpu:.2f}x")


if __name__ == "__main__":
    main()
