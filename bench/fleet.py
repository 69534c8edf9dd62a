"""Fleet benchmark: throughput with two Ollama hosts vs one, and the latency the fleet adds, in one run.

Part 1 (scaling): fake hosts that take ~100 ms per reply (20 chunks, 5 ms apart), `OLLAMA_MAX_CONCURRENT=4`
each, driven at concurrency 16 through a gateway with one host and through one with two. The ratio is what the
second host buys; 2.0 is the ideal.

Part 2 (added latency): instant fake hosts at concurrency 1: direct, through a one-host gateway, and through a
two-host gateway (routing, health state and the queue on every request). Reported as ratios and milliseconds,
never asserted. Run with `make bench-fleet` (loopback only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bench.run import ROOT, Result, direct_call, drive, gateway_call, start_fake, start_gateway, wait_http

Endpoint = tuple[str, str]  # (gateway URL, key)


@asynccontextmanager
async def fleets(delay_ms: float, max_concurrent: int) -> AsyncIterator[tuple[str, Endpoint, Endpoint]]:
    """Two fake hosts, a gateway over the first and one over both: (first fake URL, one-host, two-host)."""
    fakes = [start_fake(20, delay_ms) for _ in range(2)]
    urls = [url for url, _ in fakes]
    procs: list[subprocess.Popen[bytes]] = [proc for _, proc in fakes]
    gateways = []
    try:
        for hosts in (urls[:1], urls):
            url, key, proc = start_gateway(
                hosts[0], {"OLLAMA_URLS": ",".join(hosts), "OLLAMA_MAX_CONCURRENT": str(max_concurrent)}
            )
            procs.append(proc)
            gateways.append((url, key))
        for url in urls:
            await wait_http(url + "/api/version")
        for url, _ in gateways:
            await wait_http(url + "/healthz")
        yield urls[0], gateways[0], gateways[1]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


async def scaling(requests: int) -> tuple[Result, Result]:
    async with fleets(5.0, 4) as (_, (one, one_key), (two, two_key)):
        single = await drive("one host", 16, requests, gateway_call(one, one_key, False))
        double = await drive("two hosts", 16, requests, gateway_call(two, two_key, False))
    return single, double


async def latency(requests: int) -> tuple[Result, Result, Result]:
    async with fleets(0.0, 64) as (fake, (one, one_key), (two, two_key)):
        direct = await drive("direct", 1, requests, direct_call(fake, False))
        single = await drive("one host", 1, requests, gateway_call(one, one_key, False))
        double = await drive("two hosts", 1, requests, gateway_call(two, two_key, False))
    return direct, single, double


def main(args: argparse.Namespace) -> dict[str, object]:
    """Run both parts and write bench/fleet-results.json."""
    single, double = asyncio.run(scaling(args.requests))
    direct, one, two = asyncio.run(latency(args.requests))
    summary = {
        "machine": {"cpus": os.cpu_count()},
        "scaling": {
            "one_host_rps": round(single.rps, 1),
            "two_hosts_rps": round(double.rps, 1),
            "ratio": round(double.rps / single.rps, 3),
        },
        "latency_c1": {
            "direct_p50_ms": round(direct.median_ms, 3),
            "one_host_added_p50_ms": round(one.median_ms - direct.median_ms, 3),
            "two_hosts_added_p50_ms": round(two.median_ms - direct.median_ms, 3),
            "two_vs_one_p50_ratio": round(two.median_ms / one.median_ms, 3),
        },
    }
    print(json.dumps(summary, indent=2))
    (ROOT / "bench" / "fleet-results.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400, help="requests per scenario")
    main(parser.parse_args())
