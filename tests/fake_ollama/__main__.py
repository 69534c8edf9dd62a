"""Run the fake Ollama as a process: `python -m tests.fake_ollama --port N [--tokens K] [--chunk-delay-ms D]`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from types import FrameType

from .server import FakeOllama


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; prints the base URL on stdout once listening."""
    parser = argparse.ArgumentParser(prog="python -m tests.fake_ollama", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tokens", type=int, default=None, help="content chunks in the default reply")
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="delay between chunks")
    parser.add_argument("--record", action="store_true", help="keep request recordings (grows without bound)")
    parser.add_argument("--no-uvloop", action="store_true", help="use asyncio's default loop even if uvloop exists")
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
