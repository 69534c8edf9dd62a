"""`serve --workers N`: one listening socket shared by N spawned processes, each a GracefulServer."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Final

from uvicorn._subprocess import get_subprocess

from ollama_gateway.serving.limits import GatewayConfig
from ollama_gateway.serving.server import ENDING_SECONDS, GracefulServer

log = logging.getLogger(__name__)

_CHECK_SECONDS: Final = 1.0


def run_workers(config: GatewayConfig, workers: int, grace: float) -> None:
    """Start `workers` processes; on SIGTERM/SIGINT pass SIGTERM on and wait for their bounded shutdown."""
    sock = config.bind_socket()
    processes = [get_subprocess(config, GracefulServer(config, grace).run, [sock]) for _ in range(workers)]
    for process in processes:
        process.start()
    stop = threading.Event()

    def on_signal(sig: int, _frame: FrameType | None) -> None:
        stop.set()

    original = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # Woken by the signal handler; the timeout only notices a worker that died on its own.
        while not stop.wait(_CHECK_SECONDS):
            if not all(process.is_alive() for process in processes):
                log.error("a worker process exited; stopping the others")
                break
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(grace + 2 * ENDING_SECONDS)
            if process.is_alive():
                log.error("worker %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()
        sock.close()
