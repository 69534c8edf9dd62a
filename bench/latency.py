"""Latency at concurrency 1, to the microsecond: what each hop adds to one non-streaming chat.

One blocking client (a raw socket with TCP_NODELAY, a prebuilt HTTP/1.1 request, no client library in the
way) asks in turn: the fake Ollama directly, a byte-for-byte TCP relay in front of it (the cost of one more
loopback hop and event loop, nothing parsed), the bare proxy, the lean proxy (the bare proxy's non-streaming
path on the gateway's own upstream client, `bench/bare.py --client http1`) and the gateway. Each row reports
its median and p90 and what it adds over direct; rows are interleaved in rounds so drift on a shared machine
hits all alike. `--also-python PATH` (repeatable) adds a row: the same gateway on another interpreter (a
virtualenv's python with the project installed), interleaved with the others, to compare interpreter builds.
`python -m bench.latency [--requests 2000] [--rounds 3] [--also-python PATH] [--json PATH]`. Loopback only; nothing
is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.interpreter import describe, summary
from bench.run import MESSAGES, ROOT, free_port, start_bare, start_gateway, start_processes, wait_http

WARM_UP = 100


def request_bytes(url: str, path: str, body: dict[str, Any], key: str | None = None) -> tuple[str, int, bytes]:
    """The host, port and the whole HTTP/1.1 request, built once."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    if key:
        head.append(f"Authorization: Bearer {key}")
    head.append(f"Content-Length: {len(payload)}")
    return host, int(port), ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def _read_response(sock: socket.socket) -> None:
    """Read one response: to its Content-Length, or to the last chunk of a chunked body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _recv(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.decode(errors="replace"))
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is not None:
        while len(body) < length:
            body += _recv(sock)
    else:
        while not body.endswith(b"0\r\n\r\n"):
            body += _recv(sock)


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise RuntimeError("the server closed the connection")
    return chunk


def sample(host: str, port: int, request: bytes, count: int) -> list[float]:
    """Latencies in microseconds of `count` requests on one kept-alive connection, after a warm-up."""
    with socket.create_connection((host, port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(WARM_UP):
            sock.sendall(request)
            _read_response(sock)
        times = []
        for _ in range(count):
            start = time.perf_counter_ns()
            sock.sendall(request)
            _read_response(sock)
            times.append((time.perf_counter_ns() - start) / 1000)
    return times


class _Pipe(asyncio.Protocol):
    """One side of the relay: what arrives is written to the peer unchanged."""

    def __init__(self, peer: asyncio.Transport | None = None) -> None:
        self.peer = peer
        self.transport: asyncio.Transport | None = None
        self.pending: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's TCP transport is not an asyncio.Transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if self.peer is None:
            self.pending.append(data)
        else:
            self.peer.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None:
            self.peer.close()


def relay_main(port: int, upstream_host: str, upstream_port: int) -> None:
    """Serve a TCP relay on `port` in front of the upstream, on uvloop like the servers it is compared with."""
    import uvloop

    async def serve() -> None:
        loop = asyncio.get_running_loop()

        class Downstream(_Pipe):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                self.connecting = loop.create_task(self.connect())

            async def connect(self) -> None:
                assert self.transport is not None
                up_transport, up = await loop.create_connection(
                    lambda: _Pipe(self.transport), upstream_host, upstream_port
                )
                self.peer = up_transport
                for data in self.pending:
                    up_transport.write(data)
                up.peer = self.transport

        server = await loop.create_server(Downstream, "127.0.0.1", port)
        await server.serve_forever()

    uvloop.run(serve())


def start_relay(upstream: str) -> tuple[str, subprocess.Popen[bytes]]:
    host, port = upstream.removeprefix("http://").split(":")
    mine = free_port()
    argv = [sys.executable, "-m", "bench.latency", "--relay", str(mine), host, port]
    return f"http://127.0.0.1:{mine}", subprocess.Popen(argv, cwd=ROOT)


async def _ready(*urls: str) -> None:
    for url in urls:
        await wait_http(url)


def probe(requests: int, rounds: int, tokens: int, also_python: list[str] | None = None) -> dict[str, Any]:
    """Measure every row on fresh processes; print the table; the results as a dict."""
    procs = start_processes(tokens)
    bare, bare_proc = start_bare(procs.fake)
    lean, lean_proc = start_bare(procs.fake, client="http1")
    relay, relay_proc = start_relay(procs.fake)
    others = [
        (python, *start_gateway(procs.fake, command=[python, "-m", "ollama_gateway"])) for python in also_python or ()
    ]
    body = {"model": "llama3.2", "messages": MESSAGES, "stream": False}
    try:
        ready = [procs.fake + "/api/version", relay + "/api/version", bare + "/", lean + "/"]
        ready += [procs.gateway + "/healthz", *(url + "/healthz" for _, url, _, _ in others)]
        asyncio.run(_ready(*ready))
        rows = {
            "direct": request_bytes(procs.fake, "/api/chat", body),
            "tcp relay": request_bytes(relay, "/api/chat", body),
            "bare proxy": request_bytes(bare, "/v1/chat/completions", body),
            "lean proxy": request_bytes(lean, "/v1/chat/completions", body),
            "gateway": request_bytes(procs.gateway, "/v1/chat/completions", body, procs.key),
        }
        for python, url, key, _ in others:
            rows[f"gateway on {python}"] = request_bytes(url, "/v1/chat/completions", body, key)
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(rounds):
            for name, (host, port, request) in rows.items():
                times[name] += sample(host, port, request, requests)
    finally:
        for proc in (relay_proc, bare_proc, lean_proc, *(p for _, _, _, p in others)):
            proc.terminate()
            proc.wait(10)
        procs.stop()
    direct = statistics.median(times["direct"])
    table = {
        name: {
            "median_us": round(statistics.median(values), 1),
            "p90_us": round(statistics.quantiles(values, n=10)[-1], 1),
            "added_median_us": round(statistics.median(values) - direct, 1),
        }
        for name, values in times.items()
    }
    interpreter = describe()
    print(f"latency at c=1, raw-socket client ({rounds} rounds of {requests}), on {summary(interpreter)}:")
    width = max(12, *(len(name) for name in table))
    print(f"{'row':<{width}} {'median µs':>10} {'p90 µs':>9} {'added µs':>9}")
    for name, row in table.items():
        print(f"{name:<{width}} {row['median_us']:>10} {row['p90_us']:>9} {row['added_median_us']:>9}")
    return {
        "requests_per_round": requests,
        "rounds": rounds,
        "tokens": tokens,
        "interpreter": interpreter,
        "rows": table,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    result = probe(args.requests, args.rounds, args.tokens, args.also_python)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per row per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=100, help="tokens in each fake reply")
    parser.add_argument(
        "--also-python",
        action="append",
        default=[],
        metavar="PATH",
        help="also measure the gateway on this interpreter (a virtualenv's python with the project installed)",
    )
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--relay", nargs=3, metavar=("PORT", "HOST", "UPSTREAM_PORT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    if arguments.relay:
        relay_main(int(arguments.relay[0]), arguments.relay[1], int(arguments.relay[2]))
    else:
        main(arguments)
