"""Fixtures for driving the real agent CLIs (Claude Code, Codex) against a gateway on loopback.

The binaries are installed, pinned, by `make clients` into tests/clients/node/. Under CI=true a missing
binary (or a missing Node/npm, which `make clients` needs) fails the suite instead of skipping it.
Every run gets a fresh HOME (and CODEX_HOME), telemetry and update checks switched off, and a proxy on a
closed loopback port for anything that is not loopback, so nothing can leave the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

NODE_BIN = Path(__file__).parent / "node" / "node_modules" / ".bin"
# Loopback port 9 (discard) is closed here: a client that tries the internet through the proxy fails fast.
DEAD_PROXY = "http://127.0.0.1:9"
RUN_SECONDS = 90  # below the 120 s pytest timeout, so a hung client fails with its output


def binary(name: str) -> Path:
    """A pinned client binary, or a skip (a failure under CI=true) when `make clients` has not run."""
    path = NODE_BIN / name
    if not path.exists():
        message = f"{path} is missing: run `make clients` (needs node and npm)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def base_env(home: Path) -> dict[str, str]:
    """A minimal environment: no inherited credentials, a private HOME, outbound traffic pinned to loopback."""
    return {
        "PATH": f"{NODE_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "HTTPS_PROXY": DEAD_PROXY,
        "HTTP_PROXY": DEAD_PROXY,
        "ALL_PROXY": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
    }


@dataclass
class Run:
    """One finished client run."""

    returncode: int
    stdout: str
    stderr: str

    def json_result(self) -> dict[str, Any]:
        """The last JSON object printed on stdout (Claude Code's `--output-format json`)."""
        for line in reversed(self.stdout.strip().splitlines()):
            if line.startswith("{"):
                parsed: dict[str, Any] = json.loads(line)
                return parsed
        raise AssertionError(f"no JSON result in output:\n{self.stdout}\n{self.stderr}")


def run(args: list[str], *, env: dict[str, str], cwd: Path) -> Run:
    """Run a client to completion (no stdin), bounded in time."""
    done = subprocess.run(
        args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_SECONDS
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def agent_gateway(start_gateway: Any, fake_ollama: FakeOllama) -> Iterator[GatewayServer]:
    """A gateway with default settings (HOSTED_TOOLS=drop) in front of the fake Ollama."""
    yield start_gateway()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A project folder with one file for the clients to read."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "hello.txt").write_text("the secret word is pelican\n")
    return folder
