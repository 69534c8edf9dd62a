"""The quick start's traps: key model lists checked, bare family names, helpful 404s, and AUTH=off."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import openai
import pytest
from click.testing import CliRunner

from ollama_gateway.cli.main import cli
from tests.admin.conftest import PASSWORD, csrf_token, log_in
from tests.fake_ollama.server import FakeOllama
from tests.ops.helpers import wait_for
from tests.support.gateway import GatewayServer


def chat(server: GatewayServer, key: str, model: str) -> str:
    with openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0) as client:
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    return reply.model


def test_a_bare_family_reaches_its_only_tag(
    start_gateway: Callable[..., GatewayServer], fake_ollama: FakeOllama
) -> None:
    fake_ollama.remove_model("qwen3")
    fake_ollama.add_model("qwen3:8b", ["completion", "tools", "thinking"])
    server = start_gateway()
    key = server.create_key()
    chat(server, key, "qwen3")
    assert fake_ollama.last("/api/chat").body["model"] == "qwen3:8b"


def test_an_ambiguous_family_is_a_404_naming_the_choices(
    start_gateway: Callable[..., GatewayServer], fake_ollama: FakeOllama
) -> None:
    server = start_gateway()
    key = server.create_key()
    with pytest.raises(openai.NotFoundError) as caught:
        chat(server, key, "gpt-oss:120b")
    message = caught.value.body["message"]  # type: ignore[index]
    assert "model 'gpt-oss:120b' not found; available: gpt-oss:20b" in message
    fake_ollama.add_model("gpt-oss:120b", ["completion"])
    server.call(lambda g: g.catalog.refresh())
    with pytest.raises(openai.NotFoundError) as ambiguous:
        chat(server, key, "gpt-oss")
    assert "available: gpt-oss:120b, gpt-oss:20b" in ambiguous.value.body["message"]  # type: ignore[index]


def test_the_404_lists_only_models_the_key_may_use(gateway_server: GatewayServer) -> None:
    key = gateway_server.create_key(models=("llama3.2",))
    with pytest.raises(openai.NotFoundError) as caught:
        chat(gateway_server, key, "mistral")
    assert caught.value.body["message"] == "model 'mistral' not found; available: llama3.2:latest"  # type: ignore[index]


def cli_keys(server: GatewayServer, *args: str) -> tuple[int, str, str]:
    env = {"DATABASE_URL": server.settings.database_url, "OLLAMA_URL": server.settings.ollama_url}
    result = CliRunner(env=env).invoke(cli, ["keys", *args])
    return result.exit_code, result.stdout, result.stderr


def test_keys_create_checks_models_against_the_catalog(gateway_server: GatewayServer) -> None:
    code, _, err = cli_keys(gateway_server, "create", "--name", "typo", "--models", "llama3.2,mistral")
    assert code == 1 and "no model named 'mistral'" in err and "--allow-unknown" in err
    assert gateway_server.call(lambda g: g.storage.keys.list()) == []

    code, out, _ = cli_keys(gateway_server, "create", "--name", "ok", "--models", "llama3.2,qwen3")
    assert code == 0, out
    code, _, err = cli_keys(gateway_server, "create", "--name", "later", "--models", "mistral", "--allow-unknown")
    assert code == 0 and "not in the catalog (yet): mistral" in err
    key_id = next(k.id for k in gateway_server.call(lambda g: g.storage.keys.list()) if k.name == "ok")
    code, _, err = cli_keys(gateway_server, "update", key_id, "--models", "nope")
    assert code == 1 and "no model named 'nope'" in err


def test_keys_create_resolves_a_bare_family(
    start_gateway: Callable[..., GatewayServer], fake_ollama: FakeOllama
) -> None:
    fake_ollama.add_model("phi4:14b", ["completion"])
    server = start_gateway()
    code, _, err = cli_keys(server, "create", "--name", "phi", "--models", "phi4")
    assert code == 0 and "'phi4' is phi4:14b" in err
    assert server.call(lambda g: g.storage.keys.list())[0].models == ("phi4:14b",)


def test_admin_api_checks_models_too(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(admin_password=PASSWORD)
    with httpx.Client(base_url=server.url) as client:
        assert log_in(client, server.url).status_code == 303
        headers = {"Origin": server.url, "X-CSRF-Token": csrf_token(client.get("/admin/").text)}
        refused = client.post("/admin/api/keys", json={"name": "k", "models": ["mistral"]}, headers=headers)
        assert refused.status_code == 400 and "no model named 'mistral'" in refused.text
        allowed = client.post(
            "/admin/api/keys", json={"name": "k", "models": ["mistral"], "allow_unknown": True}, headers=headers
        )
        assert allowed.status_code == 201, allowed.text


def test_auth_off_serves_without_keys_and_says_so(
    start_gateway: Callable[..., GatewayServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    server = start_gateway(auth="off", admin_password=PASSWORD)
    assert any("AUTH=off" in r.getMessage() for r in caplog.records)
    assert chat(server, "anything", "llama3.2")
    plain = httpx.post(
        server.url + "/v1/chat/completions",
        json={"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]},
        headers={"X-Task-Id": "no-key-1"},
    )
    assert plain.status_code == 200, plain.text
    status = wait_for(
        lambda: (r := httpx.get(server.url + "/tasks/status/no-key-1")).json().get("state") == "SUCCESS" and r
    )
    assert status.status_code == 200
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/admin/").status_code in (302, 303)  # the admin UI still needs its password
        assert log_in(client, server.url).status_code == 303
        assert 'id="auth-off"' in client.get("/admin/").text


def test_auth_is_on_by_default(gateway_server: GatewayServer) -> None:
    response = httpx.post(
        gateway_server.url + "/v1/chat/completions",
        json={"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 401
