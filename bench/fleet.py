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
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.run import BIN, ROOT, Result, direct_call, drive, free_port, gateway_call, wait_http


@dataclass
class Gateway:
    """A gateway process over some fake hosts."""

    url: str
    key: str
    proc: subprocess.Popen[bytes]


def start_fake(tokens: int, delay_ms: float) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    argv = [sys.executable, "-m", "tests.fake_ollama", "--port", str(port), "--tokens", str(tokens)]
    proc = subprocess.Popen([*argv, "--chunk-delay-ms", str(delay_ms)], cwd=ROOT, stdout=subprocess.DEVNULL)
    return f"http://127.0.0.1:{port}", proc


def start_gateway(hosts: list[str], max_concurrent: int) -> Gateway:
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="og-bench-fleet-"))
    env = {
        **os.environ,
        "OLLAMA_URL": hosts[0],
        "OLLAMA_URLS": ",".join(hosts),
        "OLLAMA_MAX_CONCURRENT": str(max_concurrent),
        "DATABASE_URL": f"sqlite:///{data}/bench.db",
        "GATEWAY_DATA_DIR": str(data),
        "GATEWAY_CREATE_DB": "1",
        "LOG_LEVEL": "warning",
        "ADMIN_PASSWORD": "bench-password-not-secret",
    }
    env.pop("REDIS_URL", None)
    created = subprocess.run(
        [str(BIN / "ollama-gateway"), "keys", "create", "--name", "bench", "--json"],
        env=env,
        cwd=data,
        check=True,
        capture_output=True,
        text=True,
    )
    proc = subprocess.Popen(
        [str(BIN / "ollama-gateway"), "serve", "--port", str(port)],
        env=env,
        cwd=data,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Gateway(f"http://127.0.0.1:{port}", json.loads(created.stdout)["key"], proc)


async def scaling(requests: int) -> tuple[Result, Result]:
    fakes = [start_fake(20, 5.0) for _ in range(2)]
    one = start_gateway([fakes[0][0]], 4)
    two = start_gateway([f for f, _ in fakes], 4)
    try:
        for url in (*(f for f, _ in fakes), one.url, two.url):
            await wait_http(url + ("/healthz" if url in (one.url, two.url) else "/api/version"))
        single = await drive("one host", 16, requests, gateway_call(one.url, one.key, False))
        double = await drive("two hosts", 16, requests, gateway_call(two.url, two.key, False))
    finally:
        for proc in (one.proc, two.proc, *(p for _, p in fakes)):
            proc.terminate()
            proc.wait(10)
    return single, double


async def latency(requests: int) -> tuple[Result, Result, Result]:
    fakes = [start_fake(20, 0.0) for _ in range(2)]
    one = start_gateway([fakes[0][0]], 64)
    two = start_gateway([f for f, _ in fakes], 64)
    try:
        for url in (*(f for f, _ in fakes), one.url, two.url):
            await wait_http(url + ("/healthz" if url in (one.url, two.url) else "/api/version"))
        direct = await drive("direct", 1, requests, direct_call(fakes[0][0], False))
        single = await drive("one host", 1, requests, gateway_call(one.url, one.key, False))
        double = await drive("two hosts", 1, requests, gateway_call(two.url, two.key, False))
    finally:
        for proc in (one.proc, two.proc, *(p for _, p in fakes)):
            proc.terminate()
            proc.wait(10)
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
