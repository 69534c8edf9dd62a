"""Redis for tests: a throwaway `redis-server` on a loopback port (or TEST_REDIS_URL), isolated per test.

Fixtures: `redis_server_url` (session), `redis_url` (per test, database flushed first),
`redis_server_factory` (per test: dedicated servers a test may stop, restart, pause; always throwaway).
Enable in tests/conftest.py with `pytest_plugins = ["tests.support.redis"]`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest
import redis

REDIS_SERVER_BINARY = "/usr/bin/redis-server"
START_DEADLINE_SEC = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str | None:
    """The installed redis-server, if any."""
    if os.access(REDIS_SERVER_BINARY, os.X_OK):
        return REDIS_SERVER_BINARY
    return shutil.which("redis-server")


def unavailable(reason: str) -> None:
    """Fail under CI (Redis tests must run there), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"Redis needed under CI: {reason}")
    pytest.skip(reason)


class RedisServer:
    """One throwaway redis-server: no persistence, loopback only, its own temporary directory."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        """The redis:// URL of database `db`."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (again, on the same port) and wait until it answers PING."""
        if self.running:
            return
        options = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "save": "",
            "appendonly": "no",
            "dir": self._dir.name,
            "daemonize": "no",
            "loglevel": "warning",
        }
        argv = [self.binary]
        for name, value in options.items():
            argv += [f"--{name}", value]
        self._process = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_DEADLINE_SEC
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode} on port {self.port}")
            if _answers_ping(self.port):
                return
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {START_DEADLINE_SEC}s")

    def stop(self) -> None:
        """Kill the server (an outage, as far as clients can tell) and reap it."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGKILL's aftermath otherwise
            process.kill()
        process.wait(timeout=START_DEADLINE_SEC)

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing answers (a stalled Redis)."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after pause()."""
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def cleanup(self) -> None:
        """Stop and remove the temporary directory."""
        self.stop()
        self._dir.cleanup()


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _flush(url: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """TEST_REDIS_URL, or database 0 of a throwaway redis-server shared by the session."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    binary = redis_server_binary()
    if binary is None:
        unavailable("no redis-server binary and TEST_REDIS_URL is not set")
        return
    server = RedisServer(binary)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        server.cleanup()
        unavailable(f"cannot start redis-server: {exc}")
        return
    try:
        yield server.url()
    finally:
        server.cleanup()


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The session's Redis URL with its database flushed, so each test starts empty."""
    try:
        _flush(redis_server_url)
    except redis.RedisError as exc:
        unavailable(f"Redis at the test URL does not answer: {exc}")
    return redis_server_url


@pytest.fixture
def redis_server_factory() -> Iterator[Callable[[], RedisServer]]:
    """Start dedicated throwaway servers (stopped and removed after the test) that a test may kill or pause."""
    binary = redis_server_binary()
    if binary is None:
        unavailable("no redis-server binary to run a dedicated server")
    servers: list[RedisServer] = []

    def start() -> RedisServer:
        server = RedisServer(binary or REDIS_SERVER_BINARY)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.cleanup()
