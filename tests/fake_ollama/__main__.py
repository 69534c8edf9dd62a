"""Run the fake Ollama as a process: `python -m tests.fake_ollama --port N [--tokens K] [--chunk-delay-ms D]`.

For fleet tests: `--name X` (answers carry `X-Fake-Host: X`), `--models a:tag,b` (the catalog, instead of the
default one), `--loaded a:tag` (in /api/ps from the start), `--busy` (chat, generate and embed answer Ollama's
503 "server busy"). Counts per path and model are at `GET /_fake/stats`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from types import FrameType

from .control import catalog_of, preload
from .server import FakeOllama


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; prints the base URL on stdout once listening."""
    parser = argparse.ArgumentParser(prog="python -m tests.fake_ollama", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tokens", type=int, default=None, help="content chunks in the default reply")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="delay between chunks")
    parser.add_argument("--record", action="store_true", help="keep request recordings (grows without bound)")
    parser.add_argument("--no-uvloop", action="store_true", help="use asyncio's default loop even if uvloop exists")
    parser.add_argument("--name", default=None, help="sent back in an X-Fake-Host header on every answer")
    parser.add_argument("--models", type=_names, default=None, help="comma-separated catalog, e.g. llama3.2,qwen3:8b")
    parser.add_argument("--loaded", type=_names, default=[], help="comma-separated models in /api/ps from the start")
    parser.add_argument("--busy", action="store_true", help="scheduled requests answer 503 server busy")
    args = parser.parse_args(argv)

    loop_factory = asyncio.new_event_loop
    if not args.no_uvloop:
        try:
            import uvloop

            loop_factory = uvloop.new_event_loop
        except ImportError:
            pass
    fake = FakeOllama(args.host, args.port, record=args.record, loop_factory=loop_factory)
    fake.default_tokens = args.tokens
    fake.default_chunk_delay = args.chunk_delay_ms / 1000.0
    fake.name = args.name
    fake.busy = args.busy
    try:
        if args.models is not None:
            fake.models = catalog_of(args.models)
        preload(fake, args.loaded)
    except ValueError as exc:
        parser.error(str(exc))
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    fake.start()
    print(fake.url, flush=True)
    while not done.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
