"""Several fake Ollama hosts as real processes, for fleet tests: start N with options, kill one, read its counts.

    def test_failover(fake_fleet):
        fleet = fake_fleet(FakeHostSpec(name="a", models=["llama3.2"]), FakeHostSpec(name="b", busy=True))
        fleet.urls            # ["http://127.0.0.1:…", …], in the order given
        fleet.kill(0)         # SIGKILL: the port stops answering at once, like a crashed server
        fleet.stats(1)        # {"name": "b", "busy": true, "paths": {...}, "models": {path: {model: n}}}

Every process is stopped when the test ends, whatever happened. Enable with
`pytest_plugins = ["tests.support.fleet"]` (tests/conftest.py does).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
START_DEADLINE_SEC = 20.0  # a cold Python start on a loaded two-core machine
STOP_DEADLINE_SEC = 5.0


@dataclass(frozen=True)
class FakeHostSpec:
    """The command-line options of one fake host (see `python -m tests.fake_ollama --help`)."""

    name: str | None = None
    models: Sequence[str] | None = None
    loaded: Sequence[str] = ()
    busy: bool = False
    chunk_delay_ms: float = 0.0
    tokens: int | None = None
    extra: Sequence[str] = field(default_factory=tuple)

    def argv(self) -> list[str]:
        """The process's arguments after `-m tests.fake_ollama`."""
        args = ["--port", "0"]
        if self.name is not None:
            args += ["--name", self.name]
        if self.models is not None:
            args += ["--models", ",".join(self.models)]
        if self.loaded:
            args += ["--loaded", ",".join(self.loaded)]
        if self.busy:
            args.append("--busy")
        if self.chunk_delay_ms:
            args += ["--chunk-delay-ms", str(self.chunk_delay_ms)]
        if self.tokens is not None:
            args += ["--tokens", str(self.tokens)]
        return [*args, *self.extra]


class FakeHostProcess:
    """One running fake host."""

    def __init__(self, spec: FakeHostSpec) -> None:
        self.spec = spec
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process; closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_ollama", *spec.argv()],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            bufsize=0,
        )
        self.url = ""

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    @property
    def alive(self) -> bool:
        """True until the process has exited."""
        return self.process.poll() is None

    def wait_url(self, deadline: float) -> str:
        """Read the URL the process prints once it listens; RuntimeError if it exits or the deadline passes."""
        stdout = self.process.stdout
        assert stdout is not None
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise RuntimeError(f"fake host {self.spec.name!r} did not start in time{self._errors()}")
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    self.process.wait(STOP_DEADLINE_SEC)
                    code = self.process.returncode
                    raise RuntimeError(f"fake host {self.spec.name!r} exited with {code}{self._errors()}")
                buffer += chunk
        self.url = buffer.split(b"\n", 1)[0].decode().strip()
        return self.url

    def kill(self) -> None:
        """SIGKILL, by pid, and reap it."""
        if self.alive:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_DEADLINE_SEC)

    def stop(self) -> None:
        """SIGTERM (the fake shuts down cleanly), SIGKILL if it does not; always closes the pipes."""
        try:
            if self.alive:
                self.process.terminate()
                try:
                    self.process.wait(STOP_DEADLINE_SEC)
                except subprocess.TimeoutExpired:
                    self.kill()
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()
            self._stderr.close()

    def _errors(self) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f":\n{text[-2000:]}" if text else ""


class FakeFleet:
    """N fake hosts started together; index them in the order their specs were given."""

    def __init__(self) -> None:
        self.hosts: list[FakeHostProcess] = []

    def start(self, *specs: FakeHostSpec, timeout: float = START_DEADLINE_SEC) -> FakeFleet:
        """Start every host at once, then wait until each listens; nothing is left running if one fails."""
        try:
            self.hosts.extend(FakeHostProcess(spec) for spec in specs)
            deadline = time.monotonic() + timeout
            for host in self.hosts:
                host.wait_url(deadline)
        except BaseException:
            self.close()
            raise
        return self

    @property
    def urls(self) -> list[str]:
        """Base URLs, in spec order."""
        return [host.url for host in self.hosts]

    def url(self, index: int) -> str:
        """The base URL of host `index`."""
        return self.hosts[index].url

    def kill(self, index: int) -> None:
        """Kill host `index` with SIGKILL (a crash: no goodbye to open connections)."""
        self.hosts[index].kill()

    def stats(self, index: int) -> dict[str, Any]:
        """Host `index`'s counts (`GET /_fake/stats`)."""
        response = httpx.get(f"{self.url(index)}/_fake/stats", timeout=STOP_DEADLINE_SEC)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def astats(self, index: int) -> dict[str, Any]:
        """`stats` for async tests: does not block their event loop."""
        async with httpx.AsyncClient(timeout=STOP_DEADLINE_SEC) as client:
            response = await client.get(f"{self.url(index)}/_fake/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def set_busy(self, index: int, busy: bool = True) -> None:
        """Make host `index` answer 503 "server busy" to scheduled requests (or stop doing so)."""
        httpx.post(f"{self.url(index)}/_fake/busy", json={"busy": busy}, timeout=STOP_DEADLINE_SEC).raise_for_status()

    def close(self) -> None:
        """Stop every host."""
        for host in self.hosts:
            host.stop()


@pytest.fixture
def fake_fleet() -> Iterator[Callable[..., FakeFleet]]:
    """A factory: `fake_fleet(spec, spec, ...)` starts those fake hosts as processes; all stop after the test."""
    fleets: list[FakeFleet] = []

    def start(*specs: FakeHostSpec, timeout: float = START_DEADLINE_SEC) -> FakeFleet:
        fleet = FakeFleet()
        fleets.append(fleet)
        return fleet.start(*specs, timeout=timeout)

    yield start
    for fleet in fleets:
        fleet.close()
