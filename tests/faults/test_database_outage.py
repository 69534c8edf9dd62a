"""The database away: cached keys keep being served (limits on the local share), the rest get 503 + Retry-After."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from prometheus_client import REGISTRY

from ollama_gateway.storage import UsageRecord
from tests.support.gateway import GatewayServer
from tests.support.postgres import PostgresUnavailable, ThrowawayServer

USER = [{"role": "user", "content": "hello there"}]
CHAT = {"model": "llama3.2", "messages": USER}


def _degraded() -> float:
    return REGISTRY.get_sample_value("gateway_limiter_degraded_total") or 0.0


def _chat(server: GatewayServer, key: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.post(server.url + "/v1/chat/completions", json=CHAT, headers=headers, timeout=20)


def _rows(server: GatewayServer) -> list[UsageRecord]:
    server.flush_usage()
    rows: list[UsageRecord] = server.call(lambda g: g.storage.usage.query(limit=1000))
    return rows


@pytest.fixture
def locked(tmp_path: Path) -> Callable[[GatewayServer], sqlite3.Connection]:
    """Take SQLite's write lock on a gateway's database file from another connection (released by rollback)."""
    held: list[sqlite3.Connection] = []

    def lock(server: GatewayServer) -> sqlite3.Connection:
        database = server.settings.sqlalchemy_url.split(":///", 1)[1]
        connection = sqlite3.connect(database, isolation_level=None, timeout=5)
        connection.execute("BEGIN IMMEDIATE")
        held.append(connection)
        return connection

    yield lock  # type: ignore[misc]
    for connection in held:
        connection.close()


def test_a_held_sqlite_write_lock_degrades_the_limiter_instead_of_a_500(
    start_gateway: Callable[..., GatewayServer], locked: Callable[[GatewayServer], sqlite3.Connection]
) -> None:
    server = start_gateway(sqlite_busy_timeout_ms=100, limiter_degraded_seconds=60)
    key = server.create_key("limited", rpm=3)
    assert _chat(server, key).status_code == 200  # the key is now in the authentication cache
    before = _degraded()
    lock = locked(server)
    assert [_chat(server, key).status_code for _ in range(3)] == [200, 200, 429]  # rpm 3, counted locally
    assert _degraded() - before == 3
    lock.rollback()
    rows = _rows(server)  # nothing was lost while the database was locked
    assert sorted(r.status for r in rows) == [200, 200, 200, 429]


def test_once_the_degraded_bound_is_over_limited_keys_get_503_with_retry_after(
    start_gateway: Callable[..., GatewayServer], locked: Callable[[GatewayServer], sqlite3.Connection]
) -> None:
    server = start_gateway(sqlite_busy_timeout_ms=100, limiter_degraded_seconds=0)
    key = server.create_key("limited", rpm=100)
    assert _chat(server, key).status_code == 200
    locked(server)
    with (
        openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0) as sdk,
        pytest.raises(openai.APIStatusError) as caught,
    ):
        sdk.chat.completions.create(model="llama3.2", messages=USER)  # type: ignore[arg-type]
    assert caught.value.status_code == 503
    assert caught.value.response.headers["Retry-After"] == "2"
    assert "database is unavailable" in caught.value.message
    with (
        anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0) as sdk,
        pytest.raises(anthropic.APIStatusError) as refused,
    ):
        sdk.messages.create(model="llama3.2", max_tokens=16, messages=USER)  # type: ignore[arg-type]
    assert refused.value.status_code == 503
    assert refused.value.response.headers["retry-after"] == "2"
    assert refused.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayServer]:
    """A PostgreSQL server of this test's own, which it may stop and start again."""
    server = ThrowawayServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL unavailable: {exc}") if _ci() else pytest.skip(str(exc))
    yield server
    server.stop()


def _ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _pg_ctl(server: ThrowawayServer, *args: str) -> subprocess.CompletedProcess[str]:
    return server._run(str(server.bin / "pg_ctl"), *args, "-D", str(server.data), "-w")


@pytest.mark.postgres
def test_postgresql_away_cached_keys_are_served_new_ones_get_503(
    start_gateway: Callable[..., GatewayServer], own_postgres: ThrowawayServer
) -> None:
    url = f"postgresql://{own_postgres.user}@127.0.0.1:{own_postgres.port}/postgres"
    server = start_gateway(database_url=url, limiter_degraded_seconds=60)
    cached, limited, unseen = server.create_key("a"), server.create_key("b", rpm=50), server.create_key("c")
    ids = {record.name: record.id for record in server.call(lambda g: g.storage.keys.list())}
    cached_id, limited_id, unseen_id = ids["a"], ids["b"], ids["c"]
    assert [_chat(server, k).status_code for k in (cached, limited)] == [200, 200]
    assert server.gateway.storage.database.dialect == "postgresql"
    # "fast", not "immediate": the throwaway server runs with synchronous_commit=off, so a crash would lose
    # its last commits (keys, usage rows) and the test would blame the gateway for it.
    stopped = _pg_ctl(own_postgres, "stop", "-m", "fast")
    assert stopped.returncode == 0, stopped.stderr
    try:
        assert [_chat(server, k).status_code for k in (cached, limited)] == [200, 200]
        refused = _chat(server, unseen)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "2"
        assert refused.json()["error"]["code"] == "dependency_unavailable"
    finally:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={own_postgres.port} "
            f"-c unix_socket_directories={own_postgres.root} -c fsync=off"
        )
        restarted = _pg_ctl(own_postgres, "start", "-o", options, "-l", str(own_postgres.root / "server.log"))
        assert restarted.returncode == 0, restarted.stderr
    assert _chat(server, unseen).status_code == 200
    rows = _rows(server)
    # Every request that began an exchange has its row: those made while the database was away were kept
    # and written once it was back (the refused key never got past authentication, so it has none).
    assert sorted((r.key_id, r.status) for r in rows) == sorted(
        [(cached_id, 200), (limited_id, 200), (cached_id, 200), (limited_id, 200), (unseen_id, 200)]
    )
