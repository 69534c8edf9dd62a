"""A gateway in its own process (`ollama-gateway serve`), started and stopped by pid."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ollama_gateway.storage import UsageRecord, open_storage
from tests.support.redis import free_port


class GatewayProcess:
    """`python -m ollama_gateway serve` on a free loopback port with its own SQLite file."""

    def __init__(self, directory: Path, ollama_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite:///{directory / 'gateway.db'}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "DATABASE_", "OLLAMA_"))},
            "OLLAMA_URL": ollama_url,
            "DATABASE_URL": self.database_url,
            "GATEWAY_DATA_DIR": str(directory),
            "ADMIN_PASSWORD": "a-long-test-password",
            "LOG_LEVEL": "warning",
            **env,
        }
        self.directory = directory
        self.log_path = directory / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    def create_key(self) -> str:
        """A key in the gateway's database (created before the process starts, or alongside it)."""
        secret: str = self._storage(lambda s: s.keys.create(name="faults"))[1]
        return secret

    def usage(self) -> list[UsageRecord]:
        """Every usage row in the database."""
        rows: list[UsageRecord] = self._storage(lambda s: s.usage.query(limit=1000))
        return rows

    def _storage(self, action: Any) -> Any:
        async def run() -> Any:
            storage = await open_storage(self.database_url)
            try:
                return await action(storage)
            finally:
                await storage.close()

        return asyncio.run(run())

    def start(self, *args: str, wait_seconds: float = 30.0) -> GatewayProcess:
        """Start serving (extra `serve` arguments in `args`) and wait until /healthz answers."""
        code = "from ollama_gateway.cli import main; main()"
        with self.log_path.open("wb") as log:  # a file, not a pipe: a chatty process can never block on it
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, "serve", "--port", str(self.port), *args],
                env=self.env,
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + wait_seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited at start: {self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("gateway did not start in time")
            time.sleep(0.05)  # polling a condition with a deadline

    def signal(self, sig: signal.Signals) -> None:
        """Send `sig` to the gateway's pid."""
        assert self.process is not None
        os.kill(self.process.pid, sig)

    def wait(self, seconds: float) -> int:
        """The exit status, waiting at most `seconds`."""
        assert self.process is not None
        return self.process.wait(seconds)

    def output(self) -> str:
        """What the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the pid, if still running."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
