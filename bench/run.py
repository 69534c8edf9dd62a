"""Gateway overhead benchmark: the same load against the fake Ollama directly and through the gateway.

Reports requests per second, median/p95 latency and the latency the gateway adds, for non-streaming and
streaming chat at concurrency 1 and 32, plus the streamed chunk rate and the gateway's resident memory, and
(`bench/latency.py`) what each hop adds at concurrency 1, to the microsecond, with a raw-socket client, and
(`bench/work.py`) the bytecodes one request executes, which other load on the machine does not move.
Targets are reported as ratios, never asserted. Run with `make bench` (loopback only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.interpreter import describe, summary

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MESSAGES = [{"role": "user", "content": "benchmark the gateway please"}]


@dataclass
class Result:
    """One measured scenario."""

    name: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    chunks: int = 0
    cpu_seconds: float = 0.0  # CPU time the serving process(es) spent on the scenario (user + system)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[-1] * 1000

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds

    @property
    def cpu_us(self) -> float:
        """CPU microseconds per request in the serving process: robust against other load on the machine."""
        return self.cpu_seconds / self.requests * 1e6


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of `pid` and its children (workers), from /proc."""
    if pid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return [*found, *(g for c in found for g in _children(c))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(url)
            await asyncio.sleep(0.05)


async def drive(
    name: str,
    concurrency: int,
    total: int,
    call: Callable[[aiohttp.ClientSession], Awaitable[int]],
    pid: int | None = None,
) -> Result:
    """Run `total` calls with `concurrency` workers over one pooled session."""
    latencies: list[float] = []
    chunks = 0
    remaining = total
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(min(20, total)):  # warm-up: connections, caches
            await call(session)

        async def worker() -> None:
            nonlocal remaining, chunks
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                received = await call(session)  # not `chunks += await ...`: that reads chunks before awaiting
                chunks += received
                latencies.append(time.perf_counter() - started)

        cpu = cpu_seconds(pid)
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        cpu = cpu_seconds(pid) - cpu
    return Result(name, concurrency, len(latencies), elapsed, latencies, chunks, cpu)


def direct_call(fake: str, stream: bool) -> Callable[[aiohttp.ClientSession], Awaitable[int]]:
    body = {"model": "llama3.2", "messages": MESSAGES, "stream": stream}

    async def call(session: aiohttp.ClientSession) -> int:
        async with session.post(fake + "/api/chat", json=body) as response:
            assert response.status == 200, await response.text()
            if not stream:
                await response.read()
                return 1
            return len([line async for line in response.content if line.strip()])

    return call


def gateway_call(gateway: str, key: str, stream: bool) -> Callable[[aiohttp.ClientSession], Awaitable[int]]:
    body = {"model": "llama3.2", "messages": MESSAGES, "stream": stream}
    headers = {"Authorization": f"Bearer {key}"}

    async def call(session: aiohttp.ClientSession) -> int:
        async with session.post(gateway + "/v1/chat/completions", json=body, headers=headers) as response:
            assert response.status == 200, await response.text()
            if not stream:
                await response.read()
                return 1
            return len([line async for line in response.content if line.startswith(b"data: ")])

    return call


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Processes:
    """The fake Ollama and the gateway, started as separate processes on loopback."""

    fake: str
    gateway: str
    key: str
    fake_proc: subprocess.Popen[bytes]
    gateway_proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        for proc in (self.gateway_proc, self.fake_proc):
            proc.terminate()
            proc.wait(10)


def start_gateway(
    ollama_url: str, extra_env: dict[str, str] | None = None, workers: int = 1, command: list[str] | None = None
) -> tuple[str, str, subprocess.Popen[bytes]]:
    """A gateway process on a fresh SQLite file with one key: its URL, the key, the process.

    `command` runs instead of the `ollama-gateway` script, given the same arguments (`bench/work.py` traces it).
    """
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="og-bench-"))
    env = {
        **os.environ,
        "OLLAMA_URL": ollama_url,
        "OLLAMA_MAX_CONCURRENT": "64",  # the fake has no parallel limit: measure the gateway, not its queue
        "DATABASE_URL": f"sqlite:///{data}/bench.db",
        "GATEWAY_DATA_DIR": str(data),
        "GATEWAY_CREATE_DB": "1",
        "LOG_LEVEL": "warning",
        "ADMIN_PASSWORD": "bench-password-not-secret",
    }
    env.pop("REDIS_URL", None)
    env.update(extra_env or {})
    created = subprocess.run(
        [str(BIN / "ollama-gateway"), "keys", "create", "--name", "bench", "--json"],
        env=env,
        cwd=data,
        check=True,
        capture_output=True,
        text=True,
    )
    proc = subprocess.Popen(
        [*(command or [str(BIN / "ollama-gateway")]), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=data,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return f"http://127.0.0.1:{port}", json.loads(created.stdout)["key"], proc


def start_fake(tokens: int, delay_ms: float = 0.0) -> tuple[str, subprocess.Popen[bytes]]:
    """A fake Ollama process: its URL and the process."""
    port = free_port()
    argv = [sys.executable, "-m", "tests.fake_ollama", "--port", str(port), "--tokens", str(tokens)]
    if delay_ms:
        argv += ["--chunk-delay-ms", str(delay_ms)]
    return f"http://127.0.0.1:{port}", subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL)


def start_processes(tokens: int, extra_env: dict[str, str] | None = None, workers: int = 1) -> Processes:
    """Start the fake and the gateway (with a fresh SQLite file and one key); `extra_env` configures the gateway."""
    fake, fake_proc = start_fake(tokens)
    gateway, key, gateway_proc = start_gateway(fake, extra_env, workers)
    return Processes(fake, gateway, key, fake_proc, gateway_proc)


def start_bare(fake: str, workers: int = 1, client: str = "aiohttp") -> tuple[str, subprocess.Popen[bytes]]:
    """The bare proxy (bench/bare.py) in front of the fake: the anchor every gateway figure is a ratio to."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.bare", "--port", str(port), "--upstream", fake, "--workers", str(workers)]
    argv += ["--client", client]
    return f"http://127.0.0.1:{port}", subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL)


async def measure(
    procs: Processes, requests: int, bare: str, bare_pid: int, rounds: int = 1
) -> tuple[list[tuple[Result, Result, Result]], float]:
    """Every scenario direct, through the bare proxy and through the gateway, in one run.

    With `rounds` > 1 the three are measured in turn that many times and each keeps its median round, so a
    burst of other load on the machine hits all three alike instead of one.
    """
    await wait_http(procs.fake + "/api/version")
    await wait_http(procs.gateway + "/healthz")
    await wait_http(bare + "/")
    results: list[tuple[Result, Result, Result]] = []
    for stream in (False, True):
        for concurrency in (1, 32):
            total = requests if concurrency == 32 else max(requests // 4, 50)
            mode = "stream" if stream else "plain"
            runs: list[tuple[Result, Result, Result]] = []
            for _ in range(rounds):
                direct = await drive(
                    f"direct {mode}", concurrency, total, direct_call(procs.fake, stream), procs.fake_proc.pid
                )
                anchor = await drive(f"bare {mode}", concurrency, total, gateway_call(bare, "none", stream), bare_pid)
                through = await drive(
                    f"gateway {mode}",
                    concurrency,
                    total,
                    gateway_call(procs.gateway, procs.key, stream),
                    procs.gateway_proc.pid,
                )
                runs.append((direct, anchor, through))
            results.append(tuple(_median([run[i] for run in runs]) for i in range(3)))  # type: ignore[arg-type]
    return results, rss_mb(procs.gateway_proc.pid)


def _median(results: list[Result]) -> Result:
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


# The gateway with one feature (or all of them) switched off, so the table shows what each one costs.
VARIANTS: list[tuple[str, dict[str, str]]] = [
    ("every feature on", {}),
    ("AUTH=off (no key auth, no key limits)", {"AUTH": "off"}),
    ("TASK_STATUS=off", {"TASK_STATUS": "off"}),
    ("USAGE_TRACKING=off", {"USAGE_TRACKING": "off"}),
    ("all three off", {"AUTH": "off", "TASK_STATUS": "off", "USAGE_TRACKING": "off"}),
    ("every feature on + access log (LOG_LEVEL=info)", {"LOG_LEVEL": "info"}),
]


async def measure_variants(
    fake: str, bare: str, bare_pid: int, requests: int, rounds: int, extra: dict[str, str], workers: int
) -> list[dict[str, object]]:
    """Plain chat at c=1 and c=32 through each variant, each against the bare proxy in the same rounds."""
    rows: list[dict[str, object]] = []
    for name, env in VARIANTS:
        url, key, proc = start_gateway(fake, {**extra, **env}, workers)
        try:
            await wait_http(url + "/healthz")
            for concurrency in (1, 32):
                total = requests if concurrency == 32 else max(requests // 4, 50)
                runs = []
                for _ in range(rounds):
                    anchor = await drive("bare", concurrency, total, gateway_call(bare, "none", False), bare_pid)
                    through = await drive("gw", concurrency, total, gateway_call(url, key, False), proc.pid)
                    runs.append((anchor, through))
                anchor = _median([r[0] for r in runs])
                through = _median([r[1] for r in runs])
                rows.append(
                    {
                        "variant": name,
                        "concurrency": concurrency,
                        "bare_rps": round(anchor.rps, 1),
                        "gateway_rps": round(through.rps, 1),
                        "gateway_to_bare_ratio": round(through.rps / anchor.rps, 3),
                        "gateway_cpu_us_per_request": round(through.cpu_us),
                        "gateway_p50_ms": round(through.median_ms, 3),
                        "bare_p50_ms": round(anchor.median_ms, 3),
                    }
                )
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"{'variant (plain chat)':<48}{'c':>4}{'bare rps':>10}{'gw rps':>9}{'gw/bare':>9}{'gw CPU µs':>11}")
    for row in rows:
        print(
            f"{row['variant']!s:<48}{row['concurrency']:>4}{row['bare_rps']:>10}{row['gateway_rps']:>9}"
            f"{row['gateway_to_bare_ratio']:>9}{row['gateway_cpu_us_per_request']:>11}"
        )
    return rows


def main(args: argparse.Namespace) -> dict[str, object]:
    """Start the processes, measure, report, stop."""
    print(f"every process runs on {summary()}")
    redis = start_redis() if args.workers > 1 else None
    extra = {"REDIS_URL": redis[0]} if redis else {}  # several workers share task status through Redis
    procs = start_processes(args.tokens, extra, args.workers)
    bare, bare_proc = start_bare(procs.fake, args.workers)
    variants: list[dict[str, object]] = []
    try:
        results, memory = asyncio.run(measure(procs, args.requests, bare, bare_proc.pid, args.rounds))
        procs.gateway_proc.terminate()
        procs.gateway_proc.wait(30)
        if args.variants:
            variants = asyncio.run(
                measure_variants(procs.fake, bare, bare_proc.pid, args.requests, args.rounds, extra, args.workers)
            )
    finally:
        bare_proc.terminate()
        bare_proc.wait(10)
        procs.stop()
        if redis is not None:
            redis[1].terminate()
            redis[1].wait(10)
    latency = None
    if args.latency and args.workers == 1:  # one blocking client measures one process best
        from bench.latency import probe

        latency = probe(args.latency_requests, args.rounds, args.tokens)
    work = None
    if args.work and args.workers == 1:
        from bench.work import main as count_work
        from bench.work import parse as work_options

        work = count_work(work_options([]))
    return report(results, memory, args, variants, latency, work)


def start_redis() -> tuple[str, subprocess.Popen[bytes]]:
    """A throwaway redis-server (from the installed binary) on a free port, keeping nothing on disk."""
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return f"redis://127.0.0.1:{port}/0", proc
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def report(
    results: list[tuple[Result, Result, Result]],
    memory: float,
    args: argparse.Namespace,
    variants: list[dict[str, object]] | None = None,
    latency: dict[str, object] | None = None,
    work: dict[str, object] | None = None,
) -> dict[str, object]:
    rows = []
    header = f"{'scenario':<16}{'c':>4}{'direct rps':>12}{'bare rps':>10}{'gw rps':>10}{'gw/bare':>9}"
    print(header + f"{'direct p50':>12}{'gw p50':>9}{'added p50':>11}{'CPU µs bare/gw':>16}{'cpu ratio':>10}")
    for direct, anchor, through in results:
        mode = direct.name.split()[1]
        row = {
            "mode": mode,
            "concurrency": direct.concurrency,
            "direct_rps": round(direct.rps, 1),
            "bare_rps": round(anchor.rps, 1),
            "gateway_rps": round(through.rps, 1),
            "throughput_ratio": round(through.rps / direct.rps, 3),
            "gateway_to_bare_ratio": round(through.rps / anchor.rps, 3),
            "bare_added_p50_ms": round(anchor.median_ms - direct.median_ms, 3),
            "direct_p50_ms": round(direct.median_ms, 3),
            "gateway_p50_ms": round(through.median_ms, 3),
            "added_p50_ms": round(through.median_ms - direct.median_ms, 3),
            "direct_p95_ms": round(direct.p95_ms, 3),
            "bare_cpu_us_per_request": round(anchor.cpu_us),
            "gateway_cpu_us_per_request": round(through.cpu_us),
            "bare_to_gateway_cpu_ratio": round(anchor.cpu_us / through.cpu_us, 3) if through.cpu_us else None,
            "gateway_p95_ms": round(through.p95_ms, 3),
        }
        if mode == "stream":
            row["direct_chunks_per_s"] = round(direct.chunks_per_s)
            row["gateway_chunks_per_s"] = round(through.chunks_per_s)
            row["chunk_rate_ratio"] = round(through.chunks_per_s / direct.chunks_per_s, 3)
            row["bare_chunks_per_s"] = round(anchor.chunks_per_s)
            row["chunk_rate_to_bare_ratio"] = round(through.chunks_per_s / anchor.chunks_per_s, 3)
        rows.append(row)
        print(
            f"{mode:<16}{direct.concurrency:>4}{direct.rps:>12.1f}{anchor.rps:>10.1f}{through.rps:>10.1f}"
            f"{row['gateway_to_bare_ratio']:>9}"
            f"{direct.median_ms:>11.2f}ms{through.median_ms:>7.2f}ms{row['added_p50_ms']:>9.2f}ms"
            f"{anchor.cpu_us:>9.0f}/{through.cpu_us:<6.0f}{row['bare_to_gateway_cpu_ratio']:>10}"
        )
        if mode == "stream":
            print(
                f"{'':<20}chunks/s bare {anchor.chunks_per_s:.0f} gw {through.chunks_per_s:.0f}: "
                f"{row['chunk_rate_to_bare_ratio']}"
            )
    print(f"gateway resident memory after the run: {memory:.1f} MB")
    summary = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "interpreter": describe(),
        },
        "tokens_per_reply": args.tokens,
        "requests_at_c32": args.requests,
        "rounds": args.rounds,
        "workers": args.workers,
        "rows": rows,
        "variants": variants or [],
        "latency_c1": latency,
        "work_c1": work,
        "gateway_rss_mb": round(memory, 1),
    }
    out = ROOT / "bench" / ("results.json" if args.workers == 1 else f"results-workers{args.workers}.json")
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario at concurrency 32")
    parser.add_argument("--tokens", type=int, default=100, help="content chunks per reply")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per scenario; each target keeps its median")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the gateway and the bare proxy")
    parser.add_argument("--no-variants", dest="variants", action="store_false", help="skip the feature-off rows")
    parser.add_argument("--no-latency", dest="latency", action="store_false", help="skip the raw-socket c=1 probe")
    parser.add_argument("--no-work", dest="work", action="store_false", help="skip counting bytecodes per request")
    parser.add_argument("--latency-requests", type=int, default=2000, help="timed requests per row per round")
    main(parser.parse_args())
