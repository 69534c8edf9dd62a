"""Work per request, counted instead of timed: the Python bytecodes and calls one non-streaming chat costs.

Latency and CPU time on a shared two-core machine move by tens of percent with whatever else runs on it; these
counts do not. The serving process runs under a tracer (`sys.settrace` with opcode events, started and stopped
by signals after a warm-up), one raw-socket client asks at c=1, and the counts are divided by the requests.
Rows: the lean proxy (`bench/bare.py --client http1`, the floor under the gateway's request path) and the
gateway with every feature on; `--top N` also lists where the gateway's bytecodes go, by function.
Background loops (task writer, usage flush) are counted too, as they are part of what a request costs.
"Before the answer" counts only what runs between a request's bytes reaching the server protocol and the
answer's last bytes reaching the transport (background work that falls into the upstream wait included): at
c=1 that is what latency follows, since work after the answer overlaps the client's turn-around.

`python -m bench.work [--requests 1000] [--top 0] [--json PATH]`. Loopback only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

from bench.interpreter import describe, summary
from bench.latency import request_bytes, sample
from bench.run import MESSAGES, ROOT, free_port, start_fake, start_gateway, wait_http

Counts = collections.Counter[tuple[str, str]]


def _where(frame: FrameType) -> tuple[str, str]:
    code = frame.f_code
    name = code.co_filename
    for marker in ("site-packages/", "src/", "python3.11/", "python3.12/", "python3.13/"):
        name = name.split(marker)[-1]
    return name, f"{code.co_firstlineno}:{code.co_name}"


_SERVER = "uvicorn/protocols/http/"  # the server protocol both rows run on


def _is_last_body(message: Any) -> bool:
    return isinstance(message, dict) and message.get("type") == "http.response.body" and not message.get("more_body")


def serve_traced(out: str, argv: list[str]) -> None:
    """Run `python -m <argv[0]> <argv[1:]>` with a tracer that SIGUSR1 starts and SIGUSR2 dumps to `out`."""
    opcodes: Counts = collections.Counter()
    calls: Counts = collections.Counter()
    answering: Counts = collections.Counter()  # the opcodes run between a request's bytes and its answer's
    state = {"answering": False}

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "opcode":
            where = _where(frame)
            opcodes[where] += 1
            if state["answering"]:
                answering[where] += 1
        return local

    def last_send(frame: FrameType, event: str, arg: Any) -> Any:
        local(frame, event, arg)
        if event == "return":
            state["answering"] = False  # the answer's last bytes are with the transport
        return last_send

    def call(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        calls[_where(frame)] += 1
        code = frame.f_code
        if _SERVER in code.co_filename:
            if code.co_name == "data_received":
                state["answering"] = True
            elif code.co_name == "send" and _is_last_body(frame.f_locals.get("message")):
                return last_send
        return local

    def start(*_: Any) -> None:
        opcodes.clear()
        calls.clear()
        answering.clear()
        sys.settrace(call)
        Path(out + ".started").touch()

    def stop(*_: Any) -> None:
        sys.settrace(None)
        rows = [
            [file, fn, opcodes[file, fn], calls[file, fn], answering[file, fn]]
            for file, fn in opcodes.keys() | calls.keys()
        ]
        Path(out + ".part").write_text(json.dumps(rows))
        os.replace(out + ".part", out)  # whole, or not there yet

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = list(argv)
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


def _traced(argv: list[str], out: str) -> list[str]:
    return [sys.executable, "-m", "bench.work", "--serve", out, "--", *argv]


def count(
    url: str, path: str, key: str | None, proc: subprocess.Popen[bytes], out: str, requests: int, *, gateway: bool
) -> list[Any]:
    """Warm up, then count `requests` requests; the tracer's rows.

    The gateway writes usage rows once a second: the window starts once the warm-up's rows are written, so it
    pays only for its own (all but its last second's, a small share of a long window).
    """
    body = {"model": "llama3.2", "messages": MESSAGES, "stream": False}
    host, port, request = request_bytes(url, path, body, key)
    sample(host, port, request, 400)
    if gateway:
        _drain_usage(url)
    proc.send_signal(signal.SIGUSR1)
    _await_file(Path(out + ".started"), proc)
    sample(host, port, request, requests - 100)  # `sample` sends 100 more as its own warm-up
    proc.send_signal(signal.SIGUSR2)
    _await_file(Path(out), proc)
    return json.loads(Path(out).read_text())  # type: ignore[no-any-return]


def _drain_usage(url: str) -> None:
    """Wait until the gateway has no usage row left to write (its metrics say how many wait)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as reply:
            if b"\ngateway_usage_queue_depth 0.0\n" in reply.read():
                return
        time.sleep(0.05)
    raise RuntimeError("the gateway's usage queue did not drain")


def _await_file(path: Path, proc: subprocess.Popen[bytes]) -> None:
    """Poll for the file the traced server writes when it has handled a signal (it has no other channel)."""
    deadline = time.monotonic() + 30
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{path.name} never came from {proc.args}")
        time.sleep(0.01)


def main(args: argparse.Namespace) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="og-work-"))
    fake, fake_proc = start_fake(100)
    procs = [fake_proc]
    rows: dict[str, list[Any]] = {}
    try:
        lean_port = free_port()
        lean_out = str(scratch / "lean.json")
        lean_argv = ["bench.bare", "--port", str(lean_port), "--upstream", fake, "--client", "http1"]
        lean_proc = subprocess.Popen(_traced(lean_argv, lean_out), cwd=ROOT, stdout=subprocess.DEVNULL)
        procs.append(lean_proc)
        gateway_out = str(scratch / "gateway.json")
        traced = _traced(["ollama_gateway"], gateway_out)
        gateway, key, gateway_proc = start_gateway(fake, {"PYTHONPATH": str(ROOT)}, command=traced)
        procs.append(gateway_proc)
        lean = f"http://127.0.0.1:{lean_port}"

        async def ready() -> None:
            await wait_http(fake + "/api/version")
            await wait_http(lean + "/")
            await wait_http(gateway + "/healthz")

        asyncio.run(ready())
        chat = "/v1/chat/completions"
        rows["lean proxy"] = count(lean, chat, None, lean_proc, lean_out, args.requests, gateway=False)
        rows["gateway"] = count(gateway, chat, key, gateway_proc, gateway_out, args.requests, gateway=True)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(scratch, ignore_errors=True)
    n = args.requests
    table = {
        name: {
            "bytecodes_per_request": round(sum(r[2] for r in found) / n),
            "python_calls_per_request": round(sum(r[3] for r in found) / n),
            "bytecodes_before_answer": round(sum(r[4] for r in found) / n),
        }
        for name, found in rows.items()
    }
    print(f"work per non-streaming chat at c=1 ({n} requests, sys.settrace counts), on {summary()}:")
    print(f"{'row':<12} {'bytecodes':>10} {'calls':>7} {'before the answer':>18}")
    for name, row in table.items():
        print(
            f"{name:<12} {row['bytecodes_per_request']:>10} {row['python_calls_per_request']:>7}"
            f" {row['bytecodes_before_answer']:>18}"
        )
    if args.top:
        print(f"the gateway's top {args.top} functions (bytecodes, calls, bytecodes before the answer, per request):")
        for file, fn, ops, calls, before in sorted(rows["gateway"], key=lambda r: -r[2])[: args.top]:
            print(f"{ops / n:8.1f} {calls / n:5.1f} {before / n:8.1f}  {file}:{fn}")
    result = {"requests": n, "interpreter": describe(), "rows": table}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="counted requests per row")
    parser.add_argument("--top", type=int, default=0, help="list the gateway's N costliest functions")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse()
    if options.serve:
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        serve_traced(options.serve, options.rest)
    else:
        main(options)
