"""PostgreSQL for tests: a throwaway server from the installed binaries (or TEST_POSTGRES_URL), one fresh DB per test.

Fixtures:
    postgres_server  session: base URL (`postgresql://user@host:port/postgres`) of a running server
    postgres_url     function: URL of a new, empty database on that server, dropped afterwards
    storage_url      function, parametrised over `sqlite` and `postgres`: a fresh, empty database URL
"""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

START_TIMEOUT_SECONDS = 30


class PostgresUnavailable(Exception):
    """No server could be started or reached."""


def _unavailable(reason: str) -> None:
    # On CI a missing database is a broken build, never a silently thinner test run.
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required on CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def _binaries() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("no initdb found (install the postgresql package)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scratch_dir() -> str | None:
    # A cluster in RAM creates databases in ~10 ms instead of ~300 ms on disk (CREATE DATABASE syncs files).
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


class ThrowawayServer:
    """A PostgreSQL cluster in a temporary directory, fsync off, listening on a free loopback port."""

    def __init__(self) -> None:
        self.bin = _binaries()
        self.root = Path(tempfile.mkdtemp(prefix="og-pg-", dir=_scratch_dir()))
        self.data = self.root / "data"
        self.port = _free_port()
        # initdb refuses to run as root: run the server as the postgres user then.
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.user = "postgres"
        self._watchdog: subprocess.Popen[bytes] | None = None

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *args] if self.run_as is not None else [*args]

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._command(*args), capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS, check=False
        )

    def _start_watchdog(self) -> None:
        # If pytest dies without tearing down (kill -9, a killed CI job), stop the server anyway.
        stop = shlex.join(self._command(str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate"))
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f"{stop} >/dev/null 2>&1; rm -rf {shlex.quote(str(self.root))}"
        )
        self._watchdog = subprocess.Popen(
            ["sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def start(self) -> str:
        """Create and start the cluster; returns its base URL."""
        if self.run_as is not None:
            shutil.chown(self.root, user=self.run_as)
        init = self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        started = self._run(
            str(self.bin / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
        )
        if started.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()} {log[-2000:]}")
        self._start_watchdog()
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Stop the server and delete its files."""
        if self._watchdog is not None:
            self._watchdog.terminate()
            self._watchdog.wait()
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Base URL of a PostgreSQL server: TEST_POSTGRES_URL if set, else a throwaway one for this session."""
    configured = os.environ.get("TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    server: ThrowawayServer | None = None
    try:
        server = ThrowawayServer()
        url = server.start()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        if server is not None:
            server.stop()
        _unavailable(str(exc))
        raise AssertionError("unreachable") from exc
    try:
        yield url
    finally:
        server.stop()


async def _admin(url: str, sql: str) -> None:
    try:
        connection: Any = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable(f"cannot connect to {make_url(url).render_as_string()}: {exc}")
        raise AssertionError("unreachable") from exc
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A new, empty database on the test server (as a plain `postgresql://` URL), dropped after the test."""
    name = f"og_test_{uuid.uuid4().hex[:16]}"
    await _admin(postgres_server, f'CREATE DATABASE "{name}"')
    try:
        yield _asyncpg_dsn(postgres_server, name)
    finally:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            await _admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: a SQLite file under tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'db' / 'gateway.db').as_posix()}"
    return str(request.getfixturevalue("postgres_url"))
