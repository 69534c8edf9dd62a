"""Issue #14 runs: RSS per 1,000 requests over a soak, 1,000 concurrent streams, and the cost of sync usage writes.

Loopback only, bounded in time and count. Run with `.venv/bin/python -m bench.hardening` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from bench.run import MESSAGES, ROOT, drive, gateway_call, rss_mb, start_processes, wait_http

Call = Callable[[aiohttp.ClientSession], Awaitable[int]]


def mixed_calls(gateway: str, key: str) -> list[Call]:
    """Chat, streamed chat, Anthropic messages and native chat, in turn."""
    headers = {"Authorization": f"Bearer {key}", "x-api-key": key}

    def post(path: str, body: dict[str, object], stream: bool) -> Call:
        async def call(session: aiohttp.ClientSession) -> int:
            async with session.post(gateway + path, json=body, headers=headers) as response:
                assert response.status == 200, await response.text()
                if stream:
                    return len([line async for line in response.content if line.strip()])
                await response.read()
                return 1

        return call

    return [
        post("/v1/chat/completions", {"model": "llama3.2", "messages": MESSAGES}, False),
        post("/v1/chat/completions", {"model": "llama3.2", "messages": MESSAGES, "stream": True}, True),
        post("/v1/messages", {"model": "llama3.2", "max_tokens": 64, "messages": MESSAGES}, False),
        post("/api/chat", {"model": "llama3.2", "messages": MESSAGES, "stream": False}, False),
    ]


async def soak(seconds: float, rate: float, max_docs: int | None = None) -> dict[str, object]:
    """`rate` requests per second for `seconds`; RSS sampled every 1,000 requests."""
    procs = start_processes(20, {"TASK_STORE_MAX_DOCS": str(max_docs)} if max_docs else None)
    try:
        await wait_http(procs.gateway + "/healthz")
        calls = mixed_calls(procs.gateway, procs.key)
        samples: list[tuple[int, float]] = [(0, rss_mb(procs.gateway_proc.pid))]
        done = 0
        failures = 0
        pending: set[asyncio.Task[int]] = set()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
            began = time.monotonic()
            issued = 0
            while time.monotonic() - began < seconds:
                due = int((time.monotonic() - began) * rate)
                while issued < due:
                    task = asyncio.create_task(calls[issued % len(calls)](session))
                    pending.add(task)
                    issued += 1
                finished = {t for t in pending if t.done()}
                for task in finished:
                    pending.discard(task)
                    done += 1
                    if task.exception() is not None:
                        failures += 1
                    if done % 1000 == 0:
                        samples.append((done, rss_mb(procs.gateway_proc.pid)))
                await asyncio.sleep(0.005)  # pacing the load generator, not synchronising a test
            await asyncio.gather(*pending, return_exceptions=True)
        elapsed = time.monotonic() - began
    finally:
        procs.stop()
    after_warmup = [(n, mb) for n, mb in samples if n >= 1000]
    slope = _slope(after_warmup) * 1000 if len(after_warmup) >= 2 else float("nan")
    return {
        "seconds": round(elapsed, 1),
        "requests": done + len(pending),
        "failures": failures,
        "rate_rps": rate,
        "task_store_max_docs": max_docs or "default (100000)",
        "rss_mb_samples": [[n, round(mb, 1)] for n, mb in samples],
        "rss_mib_per_1000_after_warmup": round(slope, 3),
    }


def _slope(points: list[tuple[int, float]]) -> float:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else float("nan")


async def streams(count: int) -> dict[str, object]:
    """`count` streamed chats at once; every one must end with [DONE]."""
    procs = start_processes(50, {"HTTP_MAX_CONNECTIONS": str(count + 100)})
    try:
        await wait_http(procs.gateway + "/healthz")
        call = gateway_call(procs.gateway, procs.key, True)
        connector = aiohttp.TCPConnector(limit=count + 10)
        peak = rss_mb(procs.gateway_proc.pid)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as session:
            began = time.monotonic()
            tasks = [asyncio.create_task(call(session)) for _ in range(count)]
            while not all(t.done() for t in tasks):
                peak = max(peak, rss_mb(procs.gateway_proc.pid))
                await asyncio.wait(tasks, timeout=0.25)
            elapsed = time.monotonic() - began
        results = [t.exception() or t.result() for t in tasks]
    finally:
        procs.stop()
    ok = [r for r in results if isinstance(r, int)]
    return {
        "streams": count,
        "completed": len(ok),
        "failed": count - len(ok),
        "seconds": round(elapsed, 2),
        "chunks": sum(ok),
        "peak_rss_mb": round(peak, 1),
    }


async def durability(requests: int) -> dict[str, object]:
    """Plain chat at concurrency 32 with USAGE_DURABILITY=batch, then sync."""
    out: dict[str, object] = {}
    for mode in ("batch", "sync"):
        procs = start_processes(20, {"USAGE_DURABILITY": mode})
        try:
            await wait_http(procs.gateway + "/healthz")
            result = await drive(f"gateway {mode}", 32, requests, gateway_call(procs.gateway, procs.key, False))
        finally:
            procs.stop()
        out[mode] = {
            "rps": round(result.rps, 1),
            "p50_ms": round(result.median_ms, 2),
            "p95_ms": round(result.p95_ms, 2),
        }
    return out


def main(args: argparse.Namespace) -> dict[str, object]:
    """Run the three measurements and write bench/hardening.json."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    out: Path = ROOT / "bench" / "hardening.json"
    summary: dict[str, object] = json.loads(out.read_text()) if out.exists() else {}
    if "soak" in args.only:
        summary["soak"] = asyncio.run(soak(args.soak_seconds, args.rate))
        # The same load with the task store capped below the request count: the growth left is not the store.
        summary["soak_store_capped"] = asyncio.run(soak(args.soak_seconds, args.rate, max_docs=1000))
    if "streams" in args.only:
        summary["streams_1000"] = asyncio.run(streams(args.streams))
    if "durability" in args.only:
        summary["usage_durability"] = asyncio.run(durability(args.requests))
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--soak-seconds", type=float, default=120.0)
    parser.add_argument("--rate", type=float, default=40.0, help="soak requests per second")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=1000, help="requests per durability mode")
    parser.add_argument("--only", nargs="+", default=["soak", "streams", "durability"], help="runs to do")
    main(parser.parse_args())
