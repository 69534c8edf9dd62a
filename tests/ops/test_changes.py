"""Changes made elsewhere (the CLI, another gateway on the same database) take effect here within 1 s."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from click.testing import CliRunner

from ollama_gateway.admin.runtime_settings import current, save
from ollama_gateway.cli.main import cli
from ollama_gateway.service.runtime import Gateway
from tests.admin.conftest import PASSWORD, log_in
from tests.ops.helpers import wait_for
from tests.support.gateway import GatewayServer

DEADLINE = 1.0


def two_gateways(start: Callable[..., GatewayServer], database_url: str, **overrides: object) -> list[GatewayServer]:
    return [start(database_url=database_url, **overrides), start(database_url=database_url, **overrides)]


def models_status(server: GatewayServer, secret: str) -> int:
    return httpx.get(server.url + "/v1/models", headers={"Authorization": f"Bearer {secret}"}).status_code


def cli_run(database_url: str, *args: str) -> str:
    result = CliRunner(env={"DATABASE_URL": database_url, "OLLAMA_URL": "http://127.0.0.1:9"}).invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def within_deadline(check: Callable[[], bool]) -> float:
    """Seconds until `check` held; fails past the 1 s bound (plus a little scheduling slack)."""
    started = time.monotonic()
    wait_for(check, timeout=DEADLINE + 0.5)
    return time.monotonic() - started


def test_key_revoked_from_the_cli_is_refused_everywhere(
    start_gateway: Callable[..., GatewayServer], storage_url: str
) -> None:
    servers = two_gateways(start_gateway, storage_url)
    secret = servers[0].create_key("shared")
    key_id = servers[0].call(lambda g: g.storage.keys.list())[0].id
    assert [models_status(s, secret) for s in servers] == [200, 200]  # both have it cached now

    cli_run(storage_url, "keys", "revoke", key_id)
    assert within_deadline(lambda: all(models_status(s, secret) == 401 for s in servers)) <= DEADLINE + 0.5


def test_model_settings_from_the_cli_apply_everywhere(
    start_gateway: Callable[..., GatewayServer], storage_url: str
) -> None:
    servers = two_gateways(start_gateway, storage_url, models_cache_seconds=600)
    secret = servers[0].create_key("models")

    def names(server: GatewayServer) -> set[str]:
        response = httpx.get(server.url + "/v1/models", headers={"Authorization": f"Bearer {secret}"})
        return {m["id"] for m in response.json()["data"]}

    assert all("chatty" not in names(s) for s in servers)
    cli_run(storage_url, "models", "set", "llama3.2:latest", "--display-name", "chatty")
    within_deadline(lambda: all("chatty" in names(s) for s in servers))


def test_runtime_settings_saved_in_one_gateway_reach_the_other(
    start_gateway: Callable[..., GatewayServer], storage_url: str
) -> None:
    first, second = two_gateways(start_gateway, storage_url)

    async def lengthen(gateway: Gateway) -> None:
        base = current(gateway)
        await save(gateway, type(base)(base.ollama_url, 123_000, base.image_fetch_enabled, False))

    first.call(lengthen)
    within_deadline(lambda: second.call(lambda g: _timeout(g)) == 123_000)


async def _timeout(gateway: Gateway) -> int:
    return gateway.settings.request_timeout_ms


@pytest.mark.postgres
def test_postgres_notifications_beat_the_poll(start_gateway: Callable[..., GatewayServer], postgres_url: str) -> None:
    # With a 30 s poll only LISTEN/NOTIFY can deliver the revocation within the deadline.
    servers = two_gateways(start_gateway, postgres_url, change_poll_seconds=30)
    secret = servers[0].create_key("pg")
    key_id = servers[0].call(lambda g: g.storage.keys.list())[0].id
    assert models_status(servers[1], secret) == 200
    cli_run(postgres_url, "keys", "revoke", key_id)
    within_deadline(lambda: all(models_status(s, secret) == 401 for s in servers))


def test_admin_password_set_from_the_cli_ends_sessions_at_once(
    start_gateway: Callable[..., GatewayServer],
) -> None:
    server = start_gateway(admin_password=PASSWORD)
    with httpx.Client(base_url=server.url) as client:
        assert log_in(client, server.url).status_code == 303
        assert client.get("/admin/").status_code == 200
        env = {"DATABASE_URL": server.settings.database_url, "ADMIN_PASSWORD": None}
        result = CliRunner(env=env).invoke(cli, ["admin", "set-password", "--password-stdin"], input="a-new-password\n")
        assert result.exit_code == 0, result.output
        within_deadline(lambda: client.get("/admin/").status_code in (302, 303))
